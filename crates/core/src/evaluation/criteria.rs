//! The 2017 Trust Services Criteria (revised points of focus, 2022) that a control
//! may cite. A fixed list, so a typo such as `CC7.9` is a lint error.

/// Highest criterion number in each series, e.g. `("CC6", 8)` means CC6.1–CC6.8.
const SERIES: &[(&str, u32)] = &[
    ("CC1", 5),
    ("CC2", 3),
    ("CC3", 4),
    ("CC4", 2),
    ("CC5", 3),
    ("CC6", 8),
    ("CC7", 5),
    ("CC8", 1),
    ("CC9", 2),
    ("A1", 3),
    ("C1", 2),
    ("PI1", 5),
    ("P1", 1),
    ("P2", 1),
    ("P3", 2),
    ("P4", 3),
    ("P5", 2),
    ("P6", 7),
    ("P7", 1),
    ("P8", 1),
];

/// True when `id` names a Trust Services criterion, e.g. `CC7.2` or `A1.2`.
pub fn is_known_criterion(id: &str) -> bool {
    let Some((series, number)) = id.split_once('.') else {
        return false;
    };
    let Ok(number) = number.parse::<u32>() else {
        return false;
    };
    SERIES
        .iter()
        .any(|(s, max)| *s == series && (1..=*max).contains(&number))
}

/// Orders criteria as the TSC do: CC, then A1, C1, PI1, P…; CC6.10 after CC6.9.
pub fn criterion_order(id: &str) -> (usize, u32, u32) {
    let (series, number) = id.split_once('.').unwrap_or((id, "0"));
    let letters = series.trim_end_matches(|c: char| c.is_ascii_digit());
    let family = ["CC", "A", "C", "PI", "P"]
        .iter()
        .position(|f| *f == letters);
    let parse = |n: &str| n.parse().unwrap_or(0);
    (
        family.unwrap_or(9),
        parse(&series[letters.len()..]),
        parse(number),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown() {
        for ok in ["CC6.1", "CC7.2", "A1.2", "CC8.1", "PI1.5"] {
            assert!(is_known_criterion(ok), "{ok}");
        }
        for bad in ["CC7.9", "CC6", "cc6.1", "X1.1", "CC6.x", "CC6.0"] {
            assert!(!is_known_criterion(bad), "{bad}");
        }
    }
}
