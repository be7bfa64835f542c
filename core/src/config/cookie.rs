//! The `cookie` setting: the `io` cookie of Node's Engine.IO server, serialized as the
//! `cookie` npm package (0.7) does. Node sets it on the polling handshake only (its
//! WebSocket transport emits no `headers` event), and so does corelay.

use crate::date::utc_string;

/// The `SameSite` attribute (Node's `sameSite`: `"strict"` or `true`, `"lax"`, `"none"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None`.
    None,
}

/// The `Priority` attribute (Node's `priority`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookiePriority {
    /// `Priority=Low`.
    Low,
    /// `Priority=Medium`.
    Medium,
    /// `Priority=High`.
    High,
}

/// The `cookie` option: the handshake sets a cookie holding the session id. Defaults are the
/// Node server's (`{ name: "io", path: "/", httpOnly: true, sameSite: "lax" }`); values are
/// written as given (the `cookie` package throws on a name, domain or path it does not
/// take).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// Cookie name (`io`).
    pub name: String,
    /// `Max-Age` attribute, in seconds (none).
    pub max_age: Option<i64>,
    /// `Domain` attribute (none).
    pub domain: Option<String>,
    /// `Path` attribute (`/`).
    pub path: Option<String>,
    /// `Expires` attribute, in seconds since the Unix epoch (none): written as JavaScript's
    /// `Date.toUTCString`, e.g. `Thu, 01 Jan 2026 00:00:00 GMT`. The core never reads the
    /// clock, so the date is absolute.
    pub expires: Option<i64>,
    /// `HttpOnly` attribute (set).
    pub http_only: bool,
    /// `Secure` attribute (not set).
    pub secure: bool,
    /// `Partitioned` attribute (not set).
    pub partitioned: bool,
    /// `Priority` attribute (none).
    pub priority: Option<CookiePriority>,
    /// `SameSite` attribute (`Lax`).
    pub same_site: Option<SameSite>,
}

impl Default for Cookie {
    fn default() -> Self {
        Cookie {
            name: "io".to_owned(),
            max_age: None,
            domain: None,
            path: Some("/".to_owned()),
            expires: None,
            http_only: true,
            secure: false,
            partitioned: false,
            priority: None,
            same_site: Some(SameSite::Lax),
        }
    }
}

impl Cookie {
    /// Sets the cookie name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets `Max-Age`, in seconds.
    pub fn max_age(mut self, seconds: i64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// Sets `Domain`.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Sets `Path`, or none.
    pub fn path(mut self, path: Option<&str>) -> Self {
        self.path = path.map(str::to_owned);
        self
    }

    /// Sets `Expires`, in seconds since the Unix epoch.
    pub fn expires(mut self, unix_seconds: i64) -> Self {
        self.expires = Some(unix_seconds);
        self
    }

    /// Sets or clears `HttpOnly`.
    pub fn http_only(mut self, on: bool) -> Self {
        self.http_only = on;
        self
    }

    /// Sets or clears `Secure`.
    pub fn secure(mut self, on: bool) -> Self {
        self.secure = on;
        self
    }

    /// Sets or clears `Partitioned`.
    pub fn partitioned(mut self, on: bool) -> Self {
        self.partitioned = on;
        self
    }

    /// Sets `Priority`, or none.
    pub fn priority(mut self, priority: Option<CookiePriority>) -> Self {
        self.priority = priority;
        self
    }

    /// Sets `SameSite`, or none.
    pub fn same_site(mut self, same_site: Option<SameSite>) -> Self {
        self.same_site = same_site;
        self
    }

    /// The `Set-Cookie` value for session `sid` (URL-safe, so as `encodeURIComponent` leaves
    /// it), in the `cookie` package's order.
    pub(crate) fn header(&self, sid: &str) -> String {
        let mut v = format!("{}={}", self.name, sid);
        if let Some(max_age) = self.max_age {
            v.push_str(&format!("; Max-Age={max_age}"));
        }
        if let Some(domain) = self.domain.as_deref().filter(|d| !d.is_empty()) {
            v.push_str("; Domain=");
            v.push_str(domain);
        }
        if let Some(path) = self.path.as_deref().filter(|p| !p.is_empty()) {
            v.push_str("; Path=");
            v.push_str(path);
        }
        if let Some(expires) = self.expires {
            v.push_str("; Expires=");
            v.push_str(&utc_string(expires));
        }
        if self.http_only {
            v.push_str("; HttpOnly");
        }
        if self.secure {
            v.push_str("; Secure");
        }
        if self.partitioned {
            v.push_str("; Partitioned");
        }
        if let Some(priority) = self.priority {
            v.push_str(match priority {
                CookiePriority::Low => "; Priority=Low",
                CookiePriority::Medium => "; Priority=Medium",
                CookiePriority::High => "; Priority=High",
            });
        }
        if let Some(same_site) = self.same_site {
            v.push_str(match same_site {
                SameSite::Strict => "; SameSite=Strict",
                SameSite::Lax => "; SameSite=Lax",
                SameSite::None => "; SameSite=None",
            });
        }
        v
    }
}
