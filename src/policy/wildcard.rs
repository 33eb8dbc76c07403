//! IAM's wildcard matching: `*` matches any run of characters (also none, also `:` and
//! `/`), `?` matches exactly one character; everything else is literal.

/// True when `text` as a whole matches `pattern`. `fold_case` compares without regard
/// to case (IAM does so for actions, not for resource ARNs).
pub fn matches(pattern: &str, text: &str, fold_case: bool) -> bool {
    let (pattern, text) = folded(pattern, text, fold_case);
    // Greedy matching with one backtrack point (the last `*`): linear in practice and
    // never worse than O(pattern × text), so hostile patterns cannot stall a run.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || (pattern[p] != '*' && pattern[p] == text[t]))
        {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// True when some string matches both patterns (both may hold wildcards). Used to tell
/// "this grant could cover the resource" when part of the resource is unknown.
pub fn overlap(a: &str, b: &str, fold_case: bool) -> bool {
    let (a, b) = folded(a, b, fold_case);
    // Product of the two patterns' automata; state (i, j) = positions in a and b.
    let width = b.len() + 1;
    let mut seen = vec![false; (a.len() + 1) * width];
    let mut todo = vec![(0usize, 0usize)];
    while let Some((i, j)) = todo.pop() {
        if std::mem::replace(&mut seen[i * width + j], true) {
            continue;
        }
        if i == a.len() && j == b.len() {
            return true;
        }
        let mut next = Vec::with_capacity(4);
        // A star may match nothing.
        if i < a.len() && a[i] == '*' {
            next.push((i + 1, j));
        }
        if j < b.len() && b[j] == '*' {
            next.push((i, j + 1));
        }
        // Both consume one common character: a star stays where it is.
        if i < a.len() && j < b.len() && compatible(a[i], b[j]) {
            let ni = if a[i] == '*' { i } else { i + 1 };
            let nj = if b[j] == '*' { j } else { j + 1 };
            if (ni, nj) != (i, j) {
                next.push((ni, nj));
            }
        }
        for (ni, nj) in next {
            if !seen[ni * width + nj] {
                todo.push((ni, nj));
            }
        }
    }
    false
}

fn compatible(x: char, y: char) -> bool {
    x == '*' || y == '*' || x == '?' || y == '?' || x == y
}

fn folded(a: &str, b: &str, fold_case: bool) -> (Vec<char>, Vec<char>) {
    if fold_case {
        (
            a.to_lowercase().chars().collect(),
            b.to_lowercase().chars().collect(),
        )
    } else {
        (a.chars().collect(), b.chars().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_iam() {
        let rows: &[(&str, &str, bool, bool)] = &[
            // pattern, text, fold_case, expected
            ("*", "", false, true),
            ("*", "anything:at/all", false, true),
            ("", "", false, true),
            ("", "x", false, false),
            ("es:ESHttp*", "es:ESHttpGet", true, true),
            ("es:ESHttp*", "es:eshttpget", true, true),
            ("es:ESHttp*", "es:eshttpget", false, false),
            ("es:ESHttp*", "es:DescribeDomain", true, false),
            ("rds-db:*", "rds-db:connect", true, true),
            ("rds-db:*", "rds:connect", true, false),
            (
                "sts:AssumeRole*",
                "sts:AssumeRoleWithWebIdentity",
                true,
                true,
            ),
            (
                "sts:AssumeRole",
                "sts:AssumeRoleWithWebIdentity",
                true,
                false,
            ),
            ("s?s:*", "sts:x", true, true),
            ("s?s:*", "ss:x", true, false),
            ("a*b*c", "abc", false, true),
            ("a*b*c", "aXbYbZc", false, true),
            ("a*b*c", "aXbYbZ", false, false),
            ("*a", "aaaa", false, true),
            ("**", "", false, true),
            ("a**b", "ab", false, true),
            ("?", "", false, false),
            ("?", "é", false, true),
            (
                "arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/identity_irsa",
                "arn:aws:rds-db:eu-west-1:123456789012:dbuser:cluster-ABC/identity_irsa",
                false,
                true,
            ),
            (
                "arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/identity_irsa",
                "arn:aws:rds-db:eu-west-1:123456789012:dbuser:cluster-ABC/Identity_irsa",
                false,
                false,
            ),
            (
                "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*",
                "arn:aws:es:eu-west-1:123456789012:domain/camunda-os",
                false,
                false,
            ),
            (
                "arn:aws:es:eu-west-1:123456789012:domain/camunda-os*",
                "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/x/y",
                false,
                true,
            ),
        ];
        for &(pattern, text, fold, expected) in rows {
            assert_eq!(
                matches(pattern, text, fold),
                expected,
                "{pattern:?} vs {text:?}"
            );
        }
    }

    #[test]
    fn hostile_patterns_finish() {
        let pattern = "*a".repeat(200) + "b";
        let text = "a".repeat(5000);
        assert!(!matches(&pattern, &text, false));
        assert!(overlap(&pattern, "*", false));
        assert!(!overlap(&pattern, &text, false));
    }

    #[test]
    fn overlap_of_two_patterns() {
        let rows: &[(&str, &str, bool)] = &[
            ("dbuser:*/identity_irsa", "dbuser:*/identity_irsa", true),
            (
                "dbuser:cluster-ABC/identity_irsa",
                "dbuser:*/identity_irsa",
                true,
            ),
            ("dbuser:cluster-ABC/other", "dbuser:*/identity_irsa", false),
            ("dbuser:cluster-ABC/*", "dbuser:*/identity_irsa", true),
            ("dbuser:cluster-???/x", "dbuser:*/x", true),
            ("dbuser:cluster-???/x", "dbuser:cluster-ABCD/x", false),
            ("a*", "*b", true),
            ("a*", "b*", false),
            ("", "*", true),
            ("", "?", false),
        ];
        for &(a, b, expected) in rows {
            assert_eq!(overlap(a, b, false), expected, "{a:?} vs {b:?}");
            assert_eq!(overlap(b, a, false), expected, "{b:?} vs {a:?}");
        }
        assert!(overlap("ES:*", "es:eshttpget", true));
    }
}
