//! The `cors` setting: the answers of the `cors` npm package (2.8), which Node's Engine.IO
//! server runs before every request it handles.
//!
//! The package adds the same headers to every answer (`Access-Control-Allow-Origin`, `Vary`,
//! `Access-Control-Allow-Credentials`, `Access-Control-Expose-Headers`); a preflight
//! (`OPTIONS`) also gets `Access-Control-Allow-Methods`, `Access-Control-Allow-Headers` and
//! `Access-Control-Max-Age`, and is answered there (`options_success_status`) unless
//! `preflight_continue` passes it on. An origin refused by [`CorsOrigin::Off`] or by a
//! [`CorsOrigin::Function`] adds no header at all and answers no preflight.

use std::fmt;
use std::sync::Arc;

use regex_lite::Regex;

/// Which origins the `cors` setting allows: the `origin` option of the `cors` package.
#[derive(Clone)]
pub enum CorsOrigin {
    /// Any origin (`"*"`, the default): `Access-Control-Allow-Origin: *`.
    Any,
    /// One origin (a string): always answered with this value, whatever the request's, and
    /// `Vary: Origin`.
    Fixed(String),
    /// Origins equal to one of these strings or matching one of these patterns (an array):
    /// the request's origin is reflected when allowed; `Vary: Origin` in every case.
    List(Vec<OriginMatch>),
    /// Origins matching this pattern (a `RegExp`, searched as `RegExp.test` does): reflected
    /// when matching; `Vary: Origin` in every case.
    Pattern(Regex),
    /// Every origin, reflected (`true`), with `Vary: Origin`.
    Reflect,
    /// No CORS at all (`false`): no header, and preflights go on to the server.
    Off,
    /// A function of the request's `Origin` header (the `origin(origin, callback)` form, here
    /// synchronous): `true` reflects the origin (as [`CorsOrigin::Reflect`]), `false` adds no
    /// header (as [`CorsOrigin::Off`]).
    Function(OriginFn),
}

/// The function of [`CorsOrigin::Function`].
pub type OriginFn = Arc<dyn Fn(Option<&str>) -> bool + Send + Sync>;

/// One entry of [`CorsOrigin::List`].
#[derive(Debug, Clone)]
pub enum OriginMatch {
    /// An origin, compared exactly.
    Exact(String),
    /// A pattern the origin matches (searched, as `RegExp.test` does).
    Pattern(Regex),
}

impl OriginMatch {
    fn allows(&self, origin: &str) -> bool {
        match self {
            OriginMatch::Exact(o) => o == origin,
            OriginMatch::Pattern(re) => re.is_match(origin),
        }
    }
}

impl CorsOrigin {
    /// A list of exact origins (Node's array of strings).
    pub fn list<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OriginMatch>,
    {
        CorsOrigin::List(origins.into_iter().map(Into::into).collect())
    }

    /// A pattern origins must match (Node's `RegExp`, in `regex-lite` syntax).
    pub fn pattern(pattern: &str) -> Result<Self, regex_lite::Error> {
        Regex::new(pattern).map(CorsOrigin::Pattern)
    }

    /// A function deciding for each request's `Origin` header (`None` when absent).
    pub fn function(f: impl Fn(Option<&str>) -> bool + Send + Sync + 'static) -> Self {
        CorsOrigin::Function(Arc::new(f))
    }
}

impl fmt::Debug for CorsOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorsOrigin::Any => f.write_str("Any"),
            CorsOrigin::Fixed(o) => f.debug_tuple("Fixed").field(o).finish(),
            CorsOrigin::List(l) => f.debug_tuple("List").field(l).finish(),
            CorsOrigin::Pattern(re) => f.debug_tuple("Pattern").field(re).finish(),
            CorsOrigin::Reflect => f.write_str("Reflect"),
            CorsOrigin::Off => f.write_str("Off"),
            CorsOrigin::Function(_) => f.write_str("Function(..)"),
        }
    }
}

/// `"*"` is [`CorsOrigin::Any`], `""` is [`CorsOrigin::Off`] (as Node reads them), any other
/// string [`CorsOrigin::Fixed`].
impl From<&str> for CorsOrigin {
    fn from(origin: &str) -> Self {
        match origin {
            "*" => CorsOrigin::Any,
            "" => CorsOrigin::Off,
            o => CorsOrigin::Fixed(o.to_owned()),
        }
    }
}

impl From<String> for CorsOrigin {
    fn from(origin: String) -> Self {
        CorsOrigin::from(origin.as_str())
    }
}

/// `true` is [`CorsOrigin::Reflect`], `false` [`CorsOrigin::Off`].
impl From<bool> for CorsOrigin {
    fn from(reflect: bool) -> Self {
        if reflect {
            CorsOrigin::Reflect
        } else {
            CorsOrigin::Off
        }
    }
}

impl From<Regex> for CorsOrigin {
    fn from(re: Regex) -> Self {
        CorsOrigin::Pattern(re)
    }
}

impl From<Vec<OriginMatch>> for CorsOrigin {
    fn from(list: Vec<OriginMatch>) -> Self {
        CorsOrigin::List(list)
    }
}

impl From<&str> for OriginMatch {
    fn from(origin: &str) -> Self {
        OriginMatch::Exact(origin.to_owned())
    }
}

impl From<String> for OriginMatch {
    fn from(origin: String) -> Self {
        OriginMatch::Exact(origin)
    }
}

impl From<Regex> for OriginMatch {
    fn from(re: Regex) -> Self {
        OriginMatch::Pattern(re)
    }
}

/// Cross-origin resource sharing, as the `cors` option of the Node server (the options of
/// the `cors` package, with its defaults).
#[derive(Debug, Clone)]
pub struct Cors {
    /// Allowed origins (`"*"`, any).
    pub origin: CorsOrigin,
    /// `Access-Control-Allow-Methods` of preflight answers (`GET,HEAD,PUT,PATCH,POST,DELETE`);
    /// empty sends none.
    pub methods: String,
    /// `Access-Control-Allow-Headers` of preflight answers; `None` (the default) reflects the
    /// request's `Access-Control-Request-Headers`, with `Vary`.
    pub allowed_headers: Option<String>,
    /// `Access-Control-Expose-Headers` (none).
    pub exposed_headers: Option<String>,
    /// `Access-Control-Allow-Credentials: true` (false).
    pub credentials: bool,
    /// `Access-Control-Max-Age` of preflight answers, in seconds (none).
    pub max_age: Option<u64>,
    /// Whether a preflight goes on to the server instead of being answered (false).
    pub preflight_continue: bool,
    /// Status of preflight answers (204).
    pub options_success_status: u16,
}

impl Default for Cors {
    /// The `cors` package's defaults: `{ origin: "*" }`.
    fn default() -> Self {
        Cors::any()
    }
}

impl Cors {
    /// CORS from any origin, the `{ origin: "*" }` of the Node server.
    pub fn any() -> Self {
        Cors {
            origin: CorsOrigin::Any,
            methods: "GET,HEAD,PUT,PATCH,POST,DELETE".to_owned(),
            allowed_headers: None,
            exposed_headers: None,
            credentials: false,
            max_age: None,
            preflight_continue: false,
            options_success_status: 204,
        }
    }

    /// Sets the allowed origins: a string (`"*"` for any), `true`/`false`, a
    /// [`Regex`], a list ([`CorsOrigin::list`]), or a function ([`CorsOrigin::function`]).
    pub fn origin(mut self, origin: impl Into<CorsOrigin>) -> Self {
        self.origin = origin.into();
        self
    }

    /// Sets the allowed methods (joined with `,`, as Node joins an array).
    pub fn methods<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.methods = join(methods);
        self
    }

    /// Sets the allowed request headers (joined with `,`) instead of reflecting the
    /// request's.
    pub fn allowed_headers<I, S>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.allowed_headers = Some(join(headers));
        self
    }

    /// Sets the headers exposed to the page (joined with `,`).
    pub fn exposed_headers<I, S>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.exposed_headers = Some(join(headers));
        self
    }

    /// Sets `Access-Control-Allow-Credentials: true`.
    pub fn credentials(mut self, credentials: bool) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sets `Access-Control-Max-Age`, in seconds.
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// Passes preflights on to the server instead of answering them.
    pub fn preflight_continue(mut self, on: bool) -> Self {
        self.preflight_continue = on;
        self
    }

    /// Sets the status of preflight answers.
    pub fn options_success_status(mut self, status: u16) -> Self {
        self.options_success_status = status;
        self
    }

    /// The headers the `cors` package sets for a request from `origin` (`preflight`: an
    /// `OPTIONS` request, whose `Access-Control-Request-Headers` are `request_headers`), in
    /// its order; `None` when the origin is refused outright and nothing is set.
    pub(crate) fn headers(
        &self,
        preflight: bool,
        origin: Option<&str>,
        request_headers: Option<&str>,
    ) -> Option<Vec<(&'static str, String)>> {
        let mut out = Vec::new();
        // The `vary` package keeps one `Vary` header, where the first value was set.
        let mut vary: Vec<&str> = Vec::new();
        let mut vary_at = 0;
        // `configureOrigin`, after the origin callback.
        let allowed = match &self.origin {
            CorsOrigin::Off => return None,
            CorsOrigin::Fixed(o) if o.is_empty() => return None,
            CorsOrigin::Function(f) if !f(origin) => return None,
            CorsOrigin::Any => {
                out.push(("Access-Control-Allow-Origin", "*".to_owned()));
                None
            }
            CorsOrigin::Fixed(o) => {
                out.push(("Access-Control-Allow-Origin", o.clone()));
                (vary_at, vary) = (out.len(), vec!["Origin"]);
                None
            }
            CorsOrigin::List(list) => {
                Some(origin.is_some_and(|o| list.iter().any(|m| m.allows(o))))
            }
            CorsOrigin::Pattern(re) => Some(origin.is_some_and(|o| re.is_match(o))),
            CorsOrigin::Reflect | CorsOrigin::Function(_) => Some(true),
        };
        if let Some(allowed) = allowed {
            if let Some(o) = origin.filter(|o| allowed && !o.is_empty()) {
                out.push(("Access-Control-Allow-Origin", o.to_owned()));
            }
            (vary_at, vary) = (out.len(), vec!["Origin"]);
        }
        if self.credentials {
            out.push(("Access-Control-Allow-Credentials", "true".to_owned()));
        }
        if preflight {
            if !self.methods.is_empty() {
                out.push(("Access-Control-Allow-Methods", self.methods.clone()));
            }
            let allow = match &self.allowed_headers {
                Some(h) => Some(h.as_str()),
                None => {
                    if vary.is_empty() {
                        vary_at = out.len();
                    }
                    vary.push("Access-Control-Request-Headers");
                    request_headers
                }
            };
            if let Some(allow) = allow.filter(|h| !h.is_empty()) {
                out.push(("Access-Control-Allow-Headers", allow.to_owned()));
            }
            if let Some(max_age) = self.max_age {
                out.push(("Access-Control-Max-Age", max_age.to_string()));
            }
        }
        if let Some(exposed) = self.exposed_headers.as_ref().filter(|h| !h.is_empty()) {
            out.push(("Access-Control-Expose-Headers", exposed.clone()));
        }
        if !vary.is_empty() {
            out.insert(vary_at, ("Vary", vary.join(", ")));
        }
        Some(out)
    }
}

fn join<I, S>(items: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item.as_ref());
    }
    out
}
