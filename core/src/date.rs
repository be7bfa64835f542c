//! Dates as JavaScript writes them (the core never reads the clock: times are arguments).

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The weekday, year, month (1..=12), day and seconds of the day of a time in seconds since
/// the Unix epoch (Howard Hinnant's `civil_from_days`).
fn civil(unix_seconds: i64) -> (&'static str, i64, usize, i64, i64) {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        DAYS[days.rem_euclid(7) as usize],
        year,
        month as usize,
        day,
        secs,
    )
}

/// `Date.prototype.toUTCString`: `Thu, 01 Jan 2026 00:00:00 GMT` (the year has at least
/// four digits, `-` before a negative one).
pub(crate) fn utc_string(unix_seconds: i64) -> String {
    let (weekday, year, month, day, secs) = civil(unix_seconds);
    let sign = if year < 0 { "-" } else { "" };
    format!(
        "{weekday}, {day:02} {} {sign}{:04} {:02}:{:02}:{:02} GMT",
        MONTHS[month - 1],
        year.abs(),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
    )
}

/// `Date.prototype.toString` in UTC, from milliseconds since the epoch:
/// `Sun Nov 29 2026 00:45:05 GMT+0000 (Coordinated Universal Time)`.
pub(crate) fn js_date(unix_ms: u64) -> String {
    let (weekday, year, month, day, secs) = civil((unix_ms / 1000) as i64);
    format!(
        "{weekday} {} {day:02} {year} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        MONTHS[month - 1],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}
