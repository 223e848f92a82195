-- wrk script: a 1 KiB synchronous Invoke of the embedded endpoint's `echo` function.
-- Run against `lambda-vpce serve --no-verify-signatures` (wrk cannot sign requests):
--   wrk -t2 -c16 -d10s -s scripts/wrk-invoke.lua https://localhost:PORT
wrk.method = "POST"
wrk.path = "/2015-03-31/functions/echo/invocations"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Amz-Invocation-Type"] = "RequestResponse"
wrk.body = '{"p":"' .. string.rep("x", 1024 - 8) .. '"}'
