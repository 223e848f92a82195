//! Durations on the command line: `500ms`, `30s`, `2m`, `1h`, or bare seconds.

use std::time::Duration;

/// The longest duration accepted on the command line: one day.
pub(crate) const MAX_FLAG_DURATION: Duration = Duration::from_secs(86_400);

/// Parses a flag's duration; the message names the accepted forms.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (expected e.g. 500ms, 30s, 2m)"))?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?} (expected ms, s, m or h)"
            ))
        }
    };
    let secs = value * scale;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("{text:?} must be a positive duration"));
    }
    if secs > MAX_FLAG_DURATION.as_secs_f64() {
        return Err(format!("{text:?} is longer than one day"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a probability in `[0, 1]`.
pub(crate) fn probability(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?} is not a probability between 0 and 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_usual_units() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn bad_durations_are_refused_with_the_forms_expected() {
        for bad in [
            "",
            "s",
            "0s",
            "-1s",
            "3 fortnights",
            "1e400s",
            "2d",
            "999999h",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn probabilities_stay_between_zero_and_one() {
        assert_eq!(probability("0.25"), Ok(0.25));
        assert!(probability("1.5").is_err());
        assert!(probability("NaN").is_err());
    }
}
