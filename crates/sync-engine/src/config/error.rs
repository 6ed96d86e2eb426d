//! What can be wrong with a configuration, worded for the person who edits the file.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read. The message carries the OS's reason
    /// (`cannot read config file /x: No such file or directory`).
    #[error("cannot read config file {}: {}", .path.display(), io_reason(.source))]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file could not be written (a settings window saving it).
    #[error("cannot save the settings to {}: {}", .path.display(), io_reason(.source))]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file is not valid TOML.
    #[error("syntax error{} at line {line}, column {column}: {message}", in_file(.path.as_deref()))]
    Syntax {
        /// The file, when the text came from one.
        path: Option<PathBuf>,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in characters) of the error.
        column: usize,
        /// The TOML parser's message.
        message: String,
    },
    /// The file is valid TOML but its content is not usable; lists every problem found.
    #[error("{}", problem_lines(.0))]
    Invalid(Vec<ConfigProblem>),
    /// An account's API key cannot be obtained from its source (environment variable, file or
    /// keychain).
    #[error("account `{account}`: {message}")]
    ApiKey {
        /// The account's name.
        account: String,
        /// What is wrong and how to fix it; never contains the key.
        message: String,
    },
}

impl ConfigError {
    /// The problems of an [`ConfigError::Invalid`] configuration; empty for other errors.
    pub fn problems(&self) -> &[ConfigProblem] {
        match self {
            Self::Invalid(problems) => problems,
            _ => &[],
        }
    }
}

/// One problem in a configuration, tied to the key where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The key's full name, e.g. `account[0].folder[1].delete_threshold`, `user[1].path` or
    /// `immich.server_url`; empty for the file as a whole.
    pub key: String,
    /// What is wrong, and what would be accepted.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

/// `key: message`, one problem per line.
fn problem_lines(problems: &[ConfigProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

fn in_file(path: Option<&Path>) -> String {
    path.map(|path| format!(" in {}", path.display()))
        .unwrap_or_default()
}

/// The OS's reason without the ` (os error 2)` suffix that means nothing to a reader.
pub(super) fn io_reason(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(start) if text.ends_with(')') => text[..start].to_owned(),
        _ => text,
    }
}

/// The 1-based line and column (in characters) of a byte offset.
pub(super) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let text = "a = 1\nbé = \n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        assert_eq!(
            line_and_column(text, 12),
            (2, 6),
            "counts characters, not bytes"
        );
        assert_eq!(line_and_column(text, 999), (3, 1));
    }

    #[test]
    fn read_errors_drop_the_os_error_number() {
        let error = ConfigError::Read {
            path: PathBuf::from("/x"),
            source: io::Error::from_raw_os_error(2),
        };
        let shown = error.to_string();
        assert!(shown.starts_with("cannot read config file /x: "), "{shown}");
        assert!(!shown.contains("os error"), "{shown}");
    }

    #[test]
    fn problems_are_listed_one_per_line() {
        let error = ConfigError::Invalid(vec![
            ConfigProblem {
                key: "account[0].name".into(),
                message: "missing".into(),
            },
            ConfigProblem {
                key: String::new(),
                message: "no accounts".into(),
            },
        ]);
        assert_eq!(error.to_string(), "account[0].name: missing\nno accounts");
        assert_eq!(error.problems().len(), 2);
    }
}
