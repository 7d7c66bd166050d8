//! Value types shared by every input kind: ids, providers, regions, durations.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A DNS-1123 label: the only form an id may take, since ids become directory names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Id(String);

impl Id {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `s` is a DNS-1123 label (lowercase alphanumerics and '-', 1–63 characters).
pub fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

impl TryFrom<String> for Id {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if is_dns_label(&s) {
            Ok(Id(s))
        } else {
            Err(format!("`{s}` is not a DNS-1123 label"))
        }
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        id.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Id {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)*
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

/// The 64-bit FNV-1a hash of `s`: stable across machines and versions, for names and digests.
pub fn fnv1a64(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `orders.example.com` → `OrdersExampleCom`: the alphanumeric ids CloudFormation (logical
/// ids) and IAM (statement Sids) take.
pub fn pascal_case(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

string_enum!(
    /// Cloud provider.
    Provider { Aws = "aws", Azure = "azure" }
);
string_enum!(
    /// Managed Kubernetes service.
    Service { Eks = "eks", Aks = "aks" }
);
string_enum!(
    /// Environment, in promotion order.
    Environment { Sandbox = "sandbox", Dev = "dev", Staging = "staging", Prod = "prod" }
);
string_enum!(
    Criticality { Tier0 = "tier-0", Tier1 = "tier-1", Tier2 = "tier-2", Tier3 = "tier-3" }
);
string_enum!(
    GitopsEngine { Flux = "flux", Argocd = "argocd" }
);
string_enum!(
    Enforcement { Audit = "audit", Deny = "deny" }
);
string_enum!(
    IdentityMode { WorkloadIdentity = "workload-identity", Irsa = "irsa", EksPodIdentity = "eks-pod-identity" }
);

/// `provider:region`, e.g. `aws:us-east-1`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionTarget {
    pub provider: Provider,
    pub region: String,
}

impl TryFrom<String> for RegionTarget {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let bad = || format!("`{s}` is not provider:region (e.g. aws:us-east-1)");
        let (provider, region) = s.split_once(':').ok_or_else(bad)?;
        let provider = match provider {
            "aws" => Provider::Aws,
            "azure" => Provider::Azure,
            _ => return Err(bad()),
        };
        let valid = region
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        if !valid {
            return Err(bad());
        }
        Ok(RegionTarget {
            provider,
            region: region.to_string(),
        })
    }
}

impl From<RegionTarget> for String {
    fn from(t: RegionTarget) -> String {
        t.to_string()
    }
}

impl fmt::Display for RegionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.region)
    }
}

/// A duration written `1d2h3m4s` (any parts, in that order), kept in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Duration {
    pub seconds: u64,
}

impl TryFrom<String> for Duration {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Duration::parse(&s).ok_or_else(|| format!("`{s}` is not a duration such as 30s, 5m, 1h30m or 7d"))
    }
}

impl Duration {
    pub fn parse(s: &str) -> Option<Duration> {
        const UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];
        let mut rest = s;
        let mut seconds = 0u64;
        let mut next_unit = 0;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > 6 {
                return None;
            }
            let n: u64 = rest[..digits].parse().ok()?;
            let unit = rest[digits..].chars().next()?;
            let pos = UNITS[next_unit..].iter().position(|(u, _)| *u == unit)? + next_unit;
            seconds += n * UNITS[pos].1;
            next_unit = pos + 1;
            rest = &rest[digits + 1..];
        }
        (next_unit > 0).then_some(Duration { seconds })
    }
}

impl From<Duration> for String {
    fn from(d: Duration) -> String {
        d.to_string()
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.seconds == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.seconds;
        for (unit, size) in [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)] {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_unit_order() {
        assert_eq!(Duration::parse("5m").unwrap().seconds, 300);
        assert_eq!(Duration::parse("1h30m").unwrap().seconds, 5400);
        assert_eq!(Duration::parse("7d").unwrap().seconds, 604_800);
        assert_eq!(Duration::parse("0s").unwrap().seconds, 0);
        for bad in ["", "5", "m", "30m1h", "1h1h", "5 m", "-5m", "1w", "1234567s"] {
            assert!(Duration::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Duration::parse("90m").unwrap().to_string(), "1h30m");
    }

    #[test]
    fn region_targets_need_a_known_provider() {
        let t = RegionTarget::try_from("aws:us-east-1".to_string()).unwrap();
        assert_eq!((t.provider, t.region.as_str()), (Provider::Aws, "us-east-1"));
        for bad in ["gcp:us-east1", "aws", "aws:", "azure:East US", "aws:us--east"] {
            assert!(RegionTarget::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_are_dns_labels() {
        assert!(is_dns_label("aks-prod-01"));
        for bad in ["", "-a", "a-", "A", "a_b", "../x", "a.b", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad}");
        }
    }
}
