//! The latency histogram in the JSON report: HdrHistogram's standard V2 compressed form
//! (the deflate "V2 compressed" encoding of the Java, Go and Rust HdrHistogram libraries,
//! `HISTFAAA…` once base64-encoded), base64 with the standard alphabet and padding. Any
//! HdrHistogram library decodes it; merged histograms give exact percentiles.

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use hdrhistogram::Histogram;

use crate::Error;

/// `hist` as base64 of its V2 compressed serialization.
pub fn encode(hist: &Histogram<u64>) -> Result<String, Error> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(hist, &mut bytes)
        .map_err(|e| format!("cannot serialize a latency histogram: {e:?}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// A histogram from [`encode`]'s form; `what` names it in the error.
pub fn decode(text: &str, what: &str) -> Result<Histogram<u64>, Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("{what}: not base64 ({e})"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("{what}: not an HdrHistogram V2 serialization ({e:?})").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::new_histogram;

    #[test]
    fn a_hand_made_histograms_percentiles_round_trip_through_the_encoding() {
        let mut h = new_histogram();
        for (value, count) in [(40, 500), (55, 300), (120, 150), (900, 45), (25_000, 5)] {
            h.record_n(value, count).unwrap();
        }
        let text = encode(&h).unwrap();
        assert!(text.starts_with("HISTFAAA"), "{text}");
        let back = decode(&text, "test").unwrap();
        assert_eq!(back.len(), 1000);
        for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(back.value_at_quantile(q), h.value_at_quantile(q), "q {q}");
        }
        assert_eq!(back.max(), h.max());
    }

    #[test]
    fn garbage_is_refused_naming_the_field() {
        let e = decode("not base64!", "clients[0].histogram").unwrap_err();
        assert!(e.to_string().contains("clients[0].histogram"), "{e}");
        let e = decode("AAAA", "clients[0].histogram").unwrap_err();
        assert!(e.to_string().contains("HdrHistogram"), "{e}");
    }
}
