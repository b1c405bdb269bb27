//! Wildcard matching of actions, resources and ARNs (`*` = any run of
//! characters, `?` = exactly one), for literal text and for patterns.

/// Whether `pattern` (with `*` = any run, `?` = one character) matches the
/// literal `text`.
pub fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    covers_chars(
        &chars(pattern, ignore_case),
        &chars(text, ignore_case),
        false,
    )
}

/// Whether `pattern` matches every string that the pattern `query` can
/// stand for (sound: `true` is never wrong; for a query without wildcards
/// it is exactly [`wildcard_match`]).
pub fn pattern_covers(pattern: &str, query: &str, ignore_case: bool) -> bool {
    covers_chars(
        &chars(pattern, ignore_case),
        &chars(query, ignore_case),
        true,
    )
}

/// Whether some string is matched by both patterns.
pub fn patterns_overlap(a: &str, b: &str, ignore_case: bool) -> bool {
    overlap_chars(&chars(a, ignore_case), &chars(b, ignore_case))
}

fn chars(s: &str, ignore_case: bool) -> Vec<char> {
    if ignore_case {
        s.to_lowercase().chars().collect()
    } else {
        s.chars().collect()
    }
}

fn is_wild(c: char) -> bool {
    c == '*' || c == '?'
}

/// Table `t[i][j]`: `p[i..]` covers `q[j..]`. When `query_wild`, a `*` in
/// the query may only be absorbed by a `*` of the pattern, and a `?` only by
/// a `?` or `*`.
fn covers_chars(p: &[char], q: &[char], query_wild: bool) -> bool {
    let width = q.len() + 1;
    let mut t = vec![false; (p.len() + 1) * width];
    t[p.len() * width + q.len()] = true;
    for i in (0..p.len()).rev() {
        for j in (0..=q.len()).rev() {
            let next = |di: usize, dj: usize| t[(i + di) * width + j + dj];
            let qc = q.get(j).copied();
            t[i * width + j] = match (p[i], qc) {
                ('*', _) => next(1, 0) || (qc.is_some() && next(0, 1)),
                (_, None) => false,
                ('?', Some(c)) => !(query_wild && c == '*') && next(1, 1),
                (pc, Some(c)) => !(query_wild && is_wild(c)) && pc == c && next(1, 1),
            };
        }
    }
    t[0]
}

/// Table `t[i][j]`: some string is matched by both `a[i..]` and `b[j..]`.
fn overlap_chars(a: &[char], b: &[char]) -> bool {
    let width = b.len() + 1;
    let mut t = vec![false; (a.len() + 1) * width];
    for i in (0..=a.len()).rev() {
        for j in (0..=b.len()).rev() {
            let (x, y) = (a.get(i).copied(), b.get(j).copied());
            let at = |di: usize, dj: usize| t[(i + di) * width + j + dj];
            t[i * width + j] = match (x, y) {
                (None, None) => true,
                (Some('*'), _) if at(1, 0) => true,
                (_, Some('*')) if at(0, 1) => true,
                (Some('*'), Some(_)) => at(0, 1),
                (Some(_), Some('*')) => at(1, 0),
                (Some(c), Some(d)) => (c == '?' || d == '?' || c == d) && at(1, 1),
                _ => false,
            };
        }
    }
    t[0]
}

/// `ArnLike` / `ArnEquals`: the six colon-separated components are matched
/// one by one, case-sensitively, each with wildcards.
pub(crate) fn arn_matches(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == 6 && a.len() == 6 && p.iter().zip(&a).all(|(p, a)| wildcard_match(p, a, false))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn wildcard_basics() {
        assert!(wildcard_match("s3:Get*", "s3:getobject", true));
        assert!(!wildcard_match("s3:Get*", "s3:getobject", false));
        assert!(wildcard_match("s3:?etObject", "s3:GetObject", false));
        assert!(wildcard_match("*", "", false));
        assert!(!wildcard_match("a?", "a", false));
        assert!(wildcard_match(
            "arn:aws:s3:::b/*",
            "arn:aws:s3:::b/x/y",
            false
        ));
        assert!(!wildcard_match("arn:aws:s3:::b/*", "arn:aws:s3:::b", false));
    }

    #[test]
    fn covers_is_sound_for_query_patterns() {
        assert!(pattern_covers(
            "arn:aws:s3:::b/*",
            "arn:aws:s3:::b/*",
            false
        ));
        assert!(pattern_covers("*", "anything*", false));
        assert!(!pattern_covers("a?", "a*", false));
        assert!(!pattern_covers(
            "arn:aws:s3:::b/x*",
            "arn:aws:s3:::b/*",
            false
        ));
    }

    #[test]
    fn overlap() {
        assert!(patterns_overlap("b/secret/*", "b/*", false));
        assert!(!patterns_overlap("b/secret/*", "c/*", false));
        assert!(patterns_overlap("s3:Get*", "s3:*Object", true));
        assert!(!patterns_overlap("s3:Get*", "ec2:*", true));
        assert!(patterns_overlap("a?c", "abc", false));
    }

    #[test]
    fn matchers_agree_on_concrete_text() {
        let patterns = ["s3:*", "s3:Get*", "*Object", "s?:*", "a*b*c", "*", "", "x?"];
        let texts = ["s3:GetObject", "s3:", "abc", "axxbyyc", "", "xy", "ab"];
        for p in patterns {
            for t in texts {
                let m = wildcard_match(p, t, false);
                assert_eq!(m, pattern_covers(p, t, false), "{p} / {t}");
                assert_eq!(m, patterns_overlap(p, t, false), "{p} / {t}");
            }
        }
    }

    #[test]
    fn arn_components() {
        assert!(arn_matches(
            "arn:aws:iam::*:role/admin*",
            "arn:aws:iam::123456789012:role/admin-x"
        ));
        assert!(!arn_matches(
            "arn:aws:iam::*:role/admin",
            "arn:aws:iam::1:user/admin"
        ));
        assert!(!arn_matches("arn:aws:*", "not-an-arn"));
    }
}
