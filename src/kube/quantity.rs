//! Kubernetes resource quantities (`500m`, `1`, `1.5Gi`, `2e3`), read as the API server reads
//! them, to compare a container's limits with an intent's maxima.

use std::cmp::Ordering;

/// A quantity, exactly: `digits × 10^exponent × 1024^binary`, `digits` without trailing
/// zeros (so that equal quantities compare equal whatever their spelling).
#[derive(Clone, Copy, Debug)]
pub struct Quantity {
    negative: bool,
    digits: u128,
    exponent: i32,
    binary: u32,
}

impl Quantity {
    /// `text` as a quantity (`<sign><number><suffix>`: the suffix a binary one, `Ki` … `Ei`, a
    /// decimal one, `n u m "" k M G T P E`, or an exponent, `e3`, `E-2`), `None` when it is
    /// not one or is too large to compare.
    pub fn parse(text: &str) -> Option<Quantity> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return None;
        }
        let (mut exponent, binary) = match suffix {
            "Ki" => (0, 1),
            "Mi" => (0, 2),
            "Gi" => (0, 3),
            "Ti" => (0, 4),
            "Pi" => (0, 5),
            "Ei" => (0, 6),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "" => (0, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            _ => {
                let power = suffix.strip_prefix(['e', 'E'])?;
                let digits = power.strip_prefix(['+', '-']).unwrap_or(power);
                if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (power.parse::<i32>().ok()?, 0)
            }
        };
        // The significant digits only: a long spelling (`0.50000…`, `1000…`) is no larger a
        // number.
        let all = format!("{whole}{fraction}");
        let significant = all.trim_start_matches('0');
        let trimmed = significant.trim_end_matches('0');
        exponent = exponent
            .checked_sub(i32::try_from(fraction.len()).ok()?)?
            .checked_add(i32::try_from(significant.len() - trimmed.len()).ok()?)?;
        let mut digits: u128 = 0;
        for b in trimmed.bytes() {
            digits = digits.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
        }
        if digits == 0 {
            return Some(Quantity {
                negative: false,
                digits: 0,
                exponent: 0,
                binary: 0,
            });
        }
        Some(Quantity {
            negative,
            digits,
            exponent,
            binary,
        })
    }

    /// A quantity as a YAML or JSON value gives it: a string, or a number.
    pub fn of_json(value: &serde_json::Value) -> Option<Quantity> {
        match value {
            serde_json::Value::String(s) => Quantity::parse(s),
            serde_json::Value::Number(n) => Quantity::parse(&n.to_string()),
            _ => None,
        }
    }

    /// The magnitude as `mantissa × 10^exponent` with the binary factor folded in, or `None`
    /// when it does not fit.
    fn decimal(&self) -> Option<(u128, i32)> {
        let factor = 1024u128.checked_pow(self.binary)?;
        Some((self.digits.checked_mul(factor)?, self.exponent))
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |q: &Quantity| match (q.digits, q.negative) {
            (0, _) => 0,
            (_, true) => -1,
            _ => 1,
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal if sign(self) == 0 => return Ordering::Equal,
            Ordering::Equal => {}
            unequal => return unequal,
        }
        let magnitude = magnitude_cmp(self, other);
        if self.negative { magnitude.reverse() } else { magnitude }
    }
}

/// The order of the magnitudes of two non-zero quantities.
fn magnitude_cmp(a: &Quantity, b: &Quantity) -> Ordering {
    let (Some((ma, ea)), Some((mb, eb))) = (a.decimal(), b.decimal()) else {
        // A binary factor too large to fold in (beyond 10^38): compare by size of number.
        let size =
            |q: &Quantity| (q.digits as f64).log10() + f64::from(q.exponent) + f64::from(q.binary) * 1024f64.log10();
        return size(a).total_cmp(&size(b));
    };
    // Compare ma × 10^ea with mb × 10^eb: first by the number of digits each has.
    let digits = |m: u128| m.checked_ilog10().map_or(0, |d| d as i64 + 1);
    let (la, lb) = (digits(ma) + i64::from(ea), digits(mb) + i64::from(eb));
    if la != lb {
        return la.cmp(&lb);
    }
    // As many digits before the point: scale the one with the larger exponent down to the
    // other's (at most 38 digits apart, as both have at most 39 digits).
    let shift = |m: u128, by: i32| 10u128.checked_pow(by.unsigned_abs()).and_then(|p| m.checked_mul(p));
    match ea.cmp(&eb) {
        Ordering::Equal => ma.cmp(&mb),
        Ordering::Greater => shift(ma, ea - eb).map_or(Ordering::Greater, |m| m.cmp(&mb)),
        Ordering::Less => shift(mb, eb - ea).map_or(Ordering::Less, |m| ma.cmp(&m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap_or_else(|| panic!("`{text}` is a quantity"))
    }

    #[test]
    fn spellings_of_one_quantity_are_equal() {
        for (a, b) in [
            ("1", "1000m"),
            ("1.5", "1500m"),
            ("0.5", ".5"),
            ("1k", "1000"),
            ("1e3", "1k"),
            ("1E-3", "1m"),
            ("1Ki", "1024"),
            ("0.5Gi", "512Mi"),
            ("1Mi", "1048576"),
            ("0", "0m"),
            ("-0", "0"),
            ("+2", "2"),
            ("100n", "0.1u"),
            ("0.5", "0.50000000000000000000000000000000000000000000000"),
            ("1e42", "1000000000000000000000000000000000000000000"),
            ("007", "7"),
        ] {
            assert_eq!(q(a), q(b), "{a} = {b}");
        }
    }

    #[test]
    fn quantities_are_ordered_by_value() {
        let ascending = [
            "-2", "-1500m", "0", "1n", "1u", "1m", "999m", "1", "1001m", "1k", "1M", "1000Ki", "1Mi", "1G", "1Gi",
            "1e10", "1T", "1Ti", "1P", "1Pi", "1E", "1Ei",
        ];
        for pair in ascending.windows(2) {
            assert!(q(pair[0]) < q(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert!(q("512Mi") <= q("512Mi") && q("513Mi") > q("512Mi") && q("1Gi") > q("512Mi"));
        assert!(q("1000m") <= q("1") && q("1.001") > q("1000m"));
    }

    #[test]
    fn what_is_not_a_quantity() {
        for text in [
            "",
            "m",
            "1x",
            "1.2.3",
            "1 Mi",
            "1mi",
            "1e",
            "e3",
            "1KiB",
            "--1",
            ".",
            "1e99999999",
        ] {
            assert!(Quantity::parse(text).is_none(), "`{text}`");
        }
        assert!(Quantity::of_json(&serde_json::json!(2)).is_some_and(|v| v == q("2000m")));
        assert!(Quantity::of_json(&serde_json::json!(0.25)).is_some_and(|v| v == q("250m")));
        assert!(Quantity::of_json(&serde_json::json!(true)).is_none());
    }

    /// The schemas' `quantity` takes what the API server takes, not negative: every spelling
    /// it accepts parses here, and every one it refuses is not a quantity or is negative.
    #[test]
    fn the_schema_takes_the_quantities_the_api_server_takes() {
        let schema: serde_json::Value = serde_json::from_str(include_str!("../../schemas/common.schema.json")).unwrap();
        let pattern = regex::Regex::new(schema["$defs"]["quantity"]["pattern"].as_str().unwrap()).unwrap();
        for text in [
            "250m", "1", "0.5", ".5", "5.", "+1", "512Mi", "1.5Gi", "2Ei", "2E", "1e3", "5E-1", "100u", "3n", "1k",
            "2P", "4Ti",
        ] {
            assert!(pattern.is_match(text), "the schema refuses `{text}`");
            assert!(Quantity::parse(text).is_some(), "`{text}` does not parse");
        }
        for text in [
            "", "m", "1x", "1.2.3", "1 Mi", "1mi", "1e", "e3", "1KiB", "--1", ".", "1e3m", "-1", "1Mb",
        ] {
            assert!(!pattern.is_match(text), "the schema takes `{text}`");
            assert!(
                Quantity::parse(text).is_none() || text.starts_with('-'),
                "`{text}` parses"
            );
        }
    }
}
