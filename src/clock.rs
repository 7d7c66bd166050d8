//! Dates: the only thing fleetgen reads from the clock is today's date (exemptions and kill
//! switches expire), and even that comes through the repository reader (`Files::today`) so that
//! a run can be pinned (`FLEETGEN_TODAY=YYYY-MM-DD`) and tests never age.

/// A calendar day, in days from 1970-01-01.
pub type Day = i64;

/// The day of a `YYYY-MM-DD` date, if that date exists.
pub fn parse_date(s: &str) -> Option<Day> {
    let mut parts = s.split('-');
    let (y, m, d) = (
        parts.next()?.parse::<i64>().ok()?,
        parts.next()?.parse::<i64>().ok()?,
        parts.next()?.parse::<i64>().ok()?,
    );
    if parts.next().is_some() || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if d > days_in_month[(m - 1) as usize] {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// How many days before its last day an expiring thing (an exemption, a switch) is warned of.
pub const WARN_DAYS: i64 = 14;

/// When something whose last day is `last` expires, said from `today` ("today", "tomorrow",
/// "in 5 days"), if that is within [`WARN_DAYS`] (and not past).
pub fn expires_within(last: Day, today: Day) -> Option<String> {
    match last - today {
        0 => Some("today".into()),
        1 => Some("tomorrow".into()),
        n @ 2..=WARN_DAYS => Some(format!("in {n} days")),
        _ => None,
    }
}

/// Today in UTC, or the day `FLEETGEN_TODAY=YYYY-MM-DD` pins (one that is not a date is said
/// on stderr, and the clock's day used).
pub fn today() -> Day {
    match std::env::var("FLEETGEN_TODAY") {
        Ok(s) => match parse_date(&s) {
            Some(day) => return day,
            None => {
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| {
                    eprintln!("warning: FLEETGEN_TODAY=`{s}` is not a date (YYYY-MM-DD); today's date is used")
                });
            }
        },
        Err(std::env::VarError::NotUnicode(_)) => {
            eprintln!("warning: FLEETGEN_TODAY is not UTF-8; today's date is used")
        }
        Err(std::env::VarError::NotPresent) => {}
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    secs.div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_and_refuse_days_that_do_not_exist() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-11-22"), Some(20_779));
        assert_eq!(parse_date("2024-02-29").map(|d| d + 1), parse_date("2024-03-01"));
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("26-1-1x"), None);
    }

    #[test]
    fn expiry_is_warned_of_from_fourteen_days_before_to_the_last_day() {
        let last = parse_date("2026-11-22").unwrap();
        assert_eq!(expires_within(last, last - 15), None);
        assert_eq!(expires_within(last, last - 14).as_deref(), Some("in 14 days"));
        assert_eq!(expires_within(last, last - 1).as_deref(), Some("tomorrow"));
        assert_eq!(expires_within(last, last).as_deref(), Some("today"));
        assert_eq!(expires_within(last, last + 1), None);
    }
}
