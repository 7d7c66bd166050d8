//! "did you mean …?" for names that are almost right.

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(score, c)| *score >= 0.8 && *c != word)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// `` `a`, `b` or `c` ``, sorted, for help texts.
pub fn list(items: &[String]) -> String {
    joined(items, "or")
}

/// Every item, quoted and sorted: `` `a`, `b` and `c` `` (what a switch applies to, where
/// [`list`] offers choices).
pub fn all(items: &[String]) -> String {
    joined(items, "and")
}

fn joined(items: &[String], conjunction: &str) -> String {
    let mut items: Vec<_> = items.iter().map(|i| format!("`{i}`")).collect();
    items.sort();
    match items.len() {
        0 => "none".to_string(),
        1 => items.remove(0),
        _ => {
            let last = items.pop().unwrap_or_default();
            format!("{} {conjunction} {last}", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_typos_are_suggested_and_strangers_are_not() {
        let profiles = ["aks-prod-standard", "aks-prod-isolated", "eks-prod-standard"];
        assert_eq!(closest("aks-prod-standrad", profiles), Some("aks-prod-standard"));
        assert_eq!(closest("eks-prod-standart", profiles), Some("eks-prod-standard"));
        assert_eq!(closest("zzz", profiles), None);
        assert_eq!(
            closest("minReplica", ["minReplicasPerRegion", "port"]),
            Some("minReplicasPerRegion")
        );
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(list(&["b".into(), "a".into(), "c".into()]), "`a`, `b` or `c`");
        assert_eq!(list(&[]), "none");
        assert_eq!(all(&["b".into(), "a".into()]), "`a` and `b`");
    }
}
