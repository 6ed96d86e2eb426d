//! What the tray process and the window process say to each other: one JSON message per line,
//! over the window process's standard input (to it) and standard output (from it).
//!
//! The pipes belong to the two processes alone (no socket or port another program could open),
//! work the same on every platform, and close by themselves when either side ends: the window
//! process leaves when its input ends, the tray notices when the window process's output ends.
//!
//! Arguments, replies and event payloads travel as raw JSON: each is written once by the side
//! that has it and handed on without being parsed in between.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// From the tray process to the window process.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToWindows {
    /// Show this window (`settings`, `activity`), creating it if needed.
    Open(String),
    /// A UI event for every window (`sync://status`, `sync://events`) and its payload.
    Emit {
        /// Event name.
        event: String,
        /// Its payload, as the windows receive it.
        payload: Box<RawValue>,
    },
    /// The answer to [`ToTray::Call`] number `id`: the command's value, or its `UiError`.
    Reply {
        /// The call's number.
        id: u64,
        /// What the command returned.
        result: Result<Box<RawValue>, Box<RawValue>>,
    },
    /// No window has been open for a while: end.
    Exit,
}

/// From the window process to the tray process.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToTray {
    /// A command a window called, with its arguments as the page passed them.
    Call {
        /// Numbers the reply.
        id: u64,
        /// The command's name (`get_status`, `save_settings`...).
        command: String,
        /// Its arguments (an object keyed by camelCase names).
        args: Box<RawValue>,
    },
    /// How many windows are open now (sent whenever one opens or closes).
    Windows(usize),
}

/// `message` as one line of the wire (without its newline).
pub fn line<T: Serialize>(message: &T) -> String {
    // Serializing these types cannot fail: their maps have string keys and their raw values
    // are valid JSON by construction.
    serde_json::to_string(message).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_survive_the_wire_with_their_raw_parts_untouched() {
        let payload = RawValue::from_string(r#"{"accounts":[],"n":1.50}"#.into()).unwrap();
        let sent = line(&ToWindows::Emit {
            event: "sync://status".into(),
            payload,
        });
        assert!(!sent.contains('\n'), "one message is one line");
        match serde_json::from_str::<ToWindows>(&sent).unwrap() {
            ToWindows::Emit { event, payload } => {
                assert_eq!(event, "sync://status");
                assert_eq!(payload.get(), r#"{"accounts":[],"n":1.50}"#);
            }
            other => panic!("{other:?}"),
        }
        let error = RawValue::from_string(r#"{"code":"store","message":"x"}"#.into()).unwrap();
        let sent = line(&ToWindows::Reply {
            id: 7,
            result: Err(error),
        });
        match serde_json::from_str::<ToWindows>(&sent).unwrap() {
            ToWindows::Reply { id: 7, result } => {
                assert_eq!(
                    result.unwrap_err().get(),
                    r#"{"code":"store","message":"x"}"#
                )
            }
            other => panic!("{other:?}"),
        }
        let args = RawValue::from_string("{\"path\":\"/photos/a\\nb\"}".into()).unwrap();
        let sent = line(&ToTray::Call {
            id: 1,
            command: "open_path".into(),
            args,
        });
        assert!(
            !sent.contains('\n'),
            "a newline inside a value stays escaped"
        );
        assert!(matches!(
            serde_json::from_str::<ToTray>(&sent).unwrap(),
            ToTray::Call { id: 1, .. }
        ));
    }
}
