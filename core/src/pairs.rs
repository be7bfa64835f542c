//! Name/value pairs (request headers, query parameters) kept compactly: a session keeps those
//! of the request that opened it for its whole life, so they cost two allocations, not two per
//! pair.

/// Name/value pairs in one text buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs {
    text: Box<str>,
    /// Per pair: where its name ends and where its value ends in `text`.
    ends: Box<[(u32, u32)]>,
}

impl Pairs {
    /// Collects pairs.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Pairs {
        let mut text = String::new();
        let mut ends = Vec::new();
        for (name, value) in pairs {
            text.push_str(name);
            let name_end = text.len() as u32;
            text.push_str(value);
            ends.push((name_end, text.len() as u32));
        }
        Pairs {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let mut start = 0usize;
        self.ends.iter().map(move |&(name_end, value_end)| {
            let (n, v) = (name_end as usize, value_end as usize);
            let pair = (&self.text[start..n], &self.text[n..v]);
            start = v;
            pair
        })
    }

    /// The first value named `name` (compared ASCII case-insensitively).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// Serialized as a JSON object (Node's `headers` and `query` objects), in order.
impl serde::Serialize for Pairs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map: Vec<(String, String)> = serde_json::Map::deserialize(deserializer)?
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect();
        Ok(Pairs::new(
            map.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_pairs_in_order_and_finds_them() {
        let p = Pairs::new([
            ("host", "x"),
            ("", ""),
            ("user-agent", "ü t"),
            ("host", "y"),
        ]);
        assert_eq!(p.len(), 4);
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            vec![
                ("host", "x"),
                ("", ""),
                ("user-agent", "ü t"),
                ("host", "y")
            ]
        );
        assert_eq!(p.get("HOST"), Some("x"));
        assert_eq!(p.get("nope"), None);
        assert!(Pairs::default().is_empty());
    }
}
