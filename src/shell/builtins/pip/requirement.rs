//! One requirement specifier (`opencv-python>=4.6; python_version>'3'`),
//! read as far as pip needs it here: the name and an exact pin.

/// A parsed requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Requirement {
    /// The project name (extras and markers dropped).
    pub name: String,
    /// The version specifier as written (`>=4.6`), if any.
    pub spec: String,
    /// The version of an `==` pin.
    pub pinned: Option<String>,
}

impl Requirement {
    /// Parses `text`; `None` when it names no project (a URL, an option).
    pub(super) fn parse(text: &str) -> Option<Requirement> {
        let text = text.split(';').next().unwrap_or("").trim();
        let end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
            .unwrap_or(text.len());
        let name = &text[..end];
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || text.contains("://") {
            return None;
        }
        let mut rest = text[end..].trim();
        if let Some(close) = rest.strip_prefix('[').and_then(|r| r.find(']')) {
            rest = rest[close + 2..].trim();
        }
        let spec = rest
            .trim_matches(|c| c == '(' || c == ')')
            .trim()
            .to_string();
        let pinned = spec
            .strip_prefix("==")
            .filter(|v| !v.contains([',', '*']))
            .map(|v| v.trim().to_string());
        Some(Requirement {
            name: name.to_string(),
            spec,
            pinned,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_specs_and_pins() {
        let r = Requirement::parse("opencv-python>=4.6.0; python_version > '3'").unwrap();
        assert_eq!(
            (r.name.as_str(), r.spec.as_str(), r.pinned),
            ("opencv-python", ">=4.6.0", None)
        );
        let r = Requirement::parse("einops==0.7.0").unwrap();
        assert_eq!(r.pinned.as_deref(), Some("0.7.0"));
        let r = Requirement::parse("huggingface_hub[hf_transfer]>=0.20").unwrap();
        assert_eq!(
            (r.name.as_str(), r.spec.as_str()),
            ("huggingface_hub", ">=0.20")
        );
        assert_eq!(Requirement::parse("git+https://github.com/x/y"), None);
        assert_eq!(Requirement::parse("--extra-index-url"), None);
        assert_eq!(Requirement::parse(""), None);
    }
}
