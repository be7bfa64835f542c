//! `redis://` URLs, as node-redis and ioredis take them.
//!
//! `redis://[user][:password]@host[:port][/db]`: port 6379 and database 0 unless given; user and
//! password are percent-decoded; an IPv6 host is written in brackets (`redis://[::1]:6380`).
//! `rediss://` (TLS) is parsed and flagged ([`RedisUrl::tls`]); [`Connection`](super::Connection)
//! refuses it until corelay has TLS. Query parameters are refused rather than ignored.

/// Where a Redis server is and how to log in to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    /// Host name or address (IPv6 without its brackets).
    pub host: String,
    /// TCP port; 6379 by default.
    pub port: u16,
    /// ACL user name (Redis 6+), sent with the password as `AUTH user password`.
    pub username: Option<String>,
    /// Password, sent as `AUTH password` (or `AUTH user password`).
    pub password: Option<String>,
    /// Logical database, selected with `SELECT` when not 0.
    pub db: u32,
    /// `rediss://`: the connection must be TLS (not supported yet).
    pub tls: bool,
}

/// Why a Redis URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Neither `redis://` nor `rediss://`.
    #[error("a Redis URL starts with redis:// or rediss://")]
    Scheme,
    /// No host after the scheme and credentials.
    #[error("the Redis URL names no host")]
    MissingHost,
    /// The port is not a number from 1 to 65535.
    #[error("invalid port {0:?} in the Redis URL")]
    Port(String),
    /// The path is not a database number.
    #[error("invalid database {0:?} in the Redis URL (expected /<number>)")]
    Database(String),
    /// A `%` escape that is not two hex digits, or that decodes to invalid UTF-8.
    #[error("invalid percent-encoding in the Redis URL credentials")]
    PercentEncoding,
    /// `?` parameters, which corelay does not interpret.
    #[error("query parameters in the Redis URL are not supported")]
    Query,
    /// `rediss://` was given, but corelay has no TLS yet.
    #[error("rediss:// (TLS) is not supported yet; use redis:// or a TLS tunnel")]
    TlsUnsupported,
}

impl RedisUrl {
    /// Parses `redis://[user][:password]@host[:port][/db]` (or `rediss://`).
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let (tls, rest) = if let Some(rest) = url.strip_prefix("redis://") {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix("rediss://") {
            (true, rest)
        } else {
            return Err(UrlError::Scheme);
        };
        if rest.contains('?') || rest.contains('#') {
            return Err(UrlError::Query);
        }
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], Some(&rest[slash + 1..])),
            None => (rest, None),
        };
        let (credentials, host_port) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let (username, password) = match credentials {
            None => (None, None),
            Some(credentials) => {
                let (user, password) = match credentials.split_once(':') {
                    Some((user, password)) => (user, Some(password)),
                    None => (credentials, None),
                };
                let user = (!user.is_empty())
                    .then(|| percent_decode(user))
                    .transpose()?;
                let password = password
                    .filter(|p| !p.is_empty())
                    .map(percent_decode)
                    .transpose()?;
                (user, password)
            }
        };
        let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
            let end = bracketed.find(']').ok_or(UrlError::MissingHost)?;
            let after = &bracketed[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port),
                None if after.is_empty() => None,
                None => return Err(UrlError::Port(after.into())),
            };
            (&bracketed[..end], port)
        } else {
            match host_port.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            }
        };
        if host.is_empty() {
            return Err(UrlError::MissingHost);
        }
        let port = match port {
            None => 6379,
            Some(text) => match text.parse::<u16>() {
                Ok(port) if port != 0 && text.bytes().all(|b| b.is_ascii_digit()) => port,
                _ => return Err(UrlError::Port(text.into())),
            },
        };
        let db = match path {
            None | Some("") => 0,
            Some(db) if db.bytes().all(|b| b.is_ascii_digit()) => {
                db.parse().map_err(|_| UrlError::Database(db.into()))?
            }
            Some(db) => return Err(UrlError::Database(db.into())),
        };
        Ok(Self {
            host: host.into(),
            port,
            username,
            password,
            db,
            tls,
        })
    }
}

fn percent_decode(s: &str) -> Result<String, UrlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(UrlError::PercentEncoding)?;
            let hex = std::str::from_utf8(hex).map_err(|_| UrlError::PercentEncoding)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| UrlError::PercentEncoding)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::PercentEncoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let url = RedisUrl::parse("redis://localhost").unwrap();
        assert_eq!(url.host, "localhost");
        assert_eq!(url.port, 6379);
        assert_eq!(url.db, 0);
        assert_eq!((url.username, url.password, url.tls), (None, None, false));
    }

    #[test]
    fn full() {
        let url = RedisUrl::parse("redis://alice:p%40ss@redis.example:6380/3").unwrap();
        assert_eq!(url.username.as_deref(), Some("alice"));
        assert_eq!(url.password.as_deref(), Some("p@ss"));
        assert_eq!(
            (url.host.as_str(), url.port, url.db),
            ("redis.example", 6380, 3)
        );
        let url = RedisUrl::parse("redis://:secret@127.0.0.1/").unwrap();
        assert_eq!(
            (url.username, url.password.as_deref()),
            (None, Some("secret"))
        );
        let url = RedisUrl::parse("redis://[::1]:7000/2").unwrap();
        assert_eq!((url.host.as_str(), url.port, url.db), ("::1", 7000, 2));
    }

    #[test]
    fn tls_flagged() {
        assert!(RedisUrl::parse("rediss://h").unwrap().tls);
    }

    #[test]
    fn refused() {
        assert_eq!(RedisUrl::parse("http://h"), Err(UrlError::Scheme));
        assert_eq!(RedisUrl::parse("redis://"), Err(UrlError::MissingHost));
        assert_eq!(RedisUrl::parse("redis://:pw@"), Err(UrlError::MissingHost));
        assert!(matches!(
            RedisUrl::parse("redis://h:0"),
            Err(UrlError::Port(_))
        ));
        assert!(matches!(
            RedisUrl::parse("redis://h:x"),
            Err(UrlError::Port(_))
        ));
        assert!(matches!(
            RedisUrl::parse("redis://h:+1"),
            Err(UrlError::Port(_))
        ));
        assert!(matches!(
            RedisUrl::parse("redis://h/x"),
            Err(UrlError::Database(_))
        ));
        assert!(matches!(
            RedisUrl::parse("redis://h/-1"),
            Err(UrlError::Database(_))
        ));
        assert_eq!(RedisUrl::parse("redis://h?db=1"), Err(UrlError::Query));
        assert_eq!(
            RedisUrl::parse("redis://a:%zz@h"),
            Err(UrlError::PercentEncoding)
        );
    }
}
