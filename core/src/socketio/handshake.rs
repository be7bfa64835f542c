//! A socket's handshake, as Node's `socket.handshake` has it.

use serde::{Deserialize, Serialize};

use crate::pairs::Pairs;

/// The request that opened a socket's connection and the auth object of its CONNECT
/// (Node's `socket.handshake`), owned, to keep or send anywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketHandshake {
    /// Headers of the request that opened the Engine.IO session (lower-case names).
    pub headers: Pairs,
    /// When the socket was made (its CONNECT came), as JavaScript's `Date.prototype.toString`
    /// writes it (UTC).
    pub time: String,
    /// The client's address (IP only, as Node's `remoteAddress`).
    pub address: String,
    /// Whether the request came from another origin (it had an `Origin` header).
    pub xdomain: bool,
    /// Whether the connection is TLS.
    pub secure: bool,
    /// When the socket was made, in milliseconds since the Unix epoch.
    pub issued: u64,
    /// The request target (path and query).
    pub url: String,
    /// Query parameters of that request.
    pub query: Pairs,
    /// The CONNECT packet's auth object (`{}` when the client sent none).
    pub auth: serde_json::Value,
}

/// A Unix time in milliseconds as JavaScript's `Date.prototype.toString` writes it in UTC:
/// `Sun Nov 29 2026 00:45:05 GMT+0000 (Coordinated Universal Time)`.
pub(crate) fn js_date(unix_ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = unix_ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{} {} {:02} {} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        DAYS[(days % 7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Year, month (1..=12) and day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::js_date;

    #[test]
    fn dates_as_javascript_writes_them() {
        assert_eq!(
            js_date(0),
            "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        // new Date(1796000705000).toString() with TZ=UTC
        assert_eq!(
            js_date(1_796_000_705_000),
            "Mon Nov 30 2026 01:05:05 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(
            js_date(951_782_400_000),
            "Tue Feb 29 2000 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
    }
}
