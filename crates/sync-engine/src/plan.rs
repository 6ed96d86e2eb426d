//! Reconciliation as a plan: facts in, actions out.
//!
//! The workers gather facts — the store's rows, the disk, what Immich answered — and ask
//! [`plan_delete`] and [`plan_upload`] what to do; they then carry the actions out. Nothing here
//! reads the clock, the disk or the network, so every row of the decision table in
//! `docs/reconciliation.md` is a test below with plain values. The mass-delete guard and its
//! grace period are batch rules on top of this table (see `crate::policy`): a planned delete
//! that is not `confirmed` goes through them.

use crate::config::{DeleteMode, DeletePolicy};
use crate::policy::{self, LocalDeleteDecision, RemoteDeleteDecision};
use crate::store::{Decision, RemoteGone};

/// What the disk says about a synced file's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    /// The file is there with the content that was uploaded.
    Present,
    /// The file is there, but its content is not what was uploaded any more.
    Changed,
    /// The file is gone (or its old content was replaced by a changed version).
    Gone,
}

/// What Immich says about the file's asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    /// Not asked yet.
    Unknown,
    /// The asset is there, out of the trash.
    Alive,
    /// The content is there, but as another asset.
    Moved(String),
    /// The asset is gone from Immich, trashed or deleted for good.
    Gone(RemoteGone),
}

/// Everything a delete decision depends on.
#[derive(Debug, Clone)]
pub struct DeleteFacts<'a> {
    /// The disk.
    pub local: Local,
    /// Immich.
    pub remote: Remote,
    /// The folder's policy.
    pub policy: &'a DeletePolicy,
    /// Where the photo's age starts (unix ms; see the README's safety model).
    pub born_ms: i64,
    /// When the local delete was seen (unix ms).
    pub deleted_ms: i64,
    /// Another local file of the account still uses the asset.
    pub shared: bool,
    /// The user's word on a delete the guard held.
    pub decision: Option<Decision>,
    /// This engine moved the asset to the Immich trash itself (after a local delete).
    pub trashed_by_engine: bool,
}

/// What to do about one synced file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Both sides agree.
    Nothing,
    /// The content lives in another asset now: link the file to it.
    Relink(String),
    /// Ask Immich about the asset first (its creation time counts towards the age).
    LookUp,
    /// Held by the guard: wait for the user.
    Wait,
    /// Move the asset to the Immich trash; unless `confirmed`, through the guard.
    TrashInImmich {
        /// The user approved it.
        confirmed: bool,
    },
    /// Leave the asset in Immich, for this reason.
    KeepInImmich(String),
    /// Move the file to the OS trash; unless `confirmed`, through the guard.
    MoveToOsTrash {
        /// The user approved it.
        confirmed: bool,
    },
    /// Keep the file, for this reason; it stays known as deleted in Immich.
    KeepLocal(String),
    /// Take the asset out of the Immich trash: this engine put it there and the file is back.
    RestoreInImmich,
    /// Both sides are gone: forget the file.
    Forget,
}

/// A decision: the action, and whether the content becomes a tombstone (deleted in Immich by
/// someone other than this engine, never to come back by itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// What to do.
    pub action: Action,
    /// Remember the content as deleted in Immich, this way.
    pub tombstone: Option<RemoteGone>,
}

impl Plan {
    fn just(action: Action) -> Plan {
        Plan {
            action,
            tombstone: None,
        }
    }
}

/// Decides what happens to one synced file, given what each side says.
pub fn plan_delete(f: &DeleteFacts<'_>) -> Plan {
    match (&f.remote, f.local) {
        (Remote::Gone(how), Local::Gone) => Plan {
            action: Action::Forget,
            tombstone: (!f.trashed_by_engine).then_some(*how),
        },
        (Remote::Gone(RemoteGone::Trashed), Local::Present) if f.trashed_by_engine => {
            Plan::just(Action::RestoreInImmich)
        }
        (Remote::Gone(how), Local::Present | Local::Changed) => Plan {
            action: remote_gone(f),
            tombstone: (!f.trashed_by_engine).then_some(*how),
        },
        (Remote::Moved(id), Local::Present | Local::Changed) => {
            Plan::just(Action::Relink(id.clone()))
        }
        (Remote::Alive | Remote::Unknown, Local::Present | Local::Changed) => {
            Plan::just(Action::Nothing)
        }
        (Remote::Alive | Remote::Unknown | Remote::Moved(_), Local::Gone) => {
            Plan::just(local_gone(f))
        }
    }
}

/// The asset is gone from Immich and the file is still here.
fn remote_gone(f: &DeleteFacts<'_>) -> Action {
    match f.decision {
        Some(Decision::Waiting) => return Action::Wait,
        Some(Decision::Rejected) => {
            return Action::KeepLocal("you chose to keep it on this computer".into());
        }
        Some(Decision::Approved) | None => {}
    }
    if f.local == Local::Changed {
        return Action::KeepLocal(
            "kept: the file changed since it was uploaded (the new version is uploaded as a new photo)"
                .into(),
        );
    }
    match policy::remote_delete(f.policy) {
        RemoteDeleteDecision::Keep(reason) => Action::KeepLocal(reason),
        RemoteDeleteDecision::MoveToTrash => Action::MoveToOsTrash {
            confirmed: f.decision == Some(Decision::Approved),
        },
    }
}

/// The file is gone and the asset is (as far as known) still in Immich. The user's approval
/// of a held delete lifts the guard, not the policy: an upload-only folder or an asset that
/// another file still uses is kept whatever was approved.
fn local_gone(f: &DeleteFacts<'_>) -> Action {
    match f.decision {
        Some(Decision::Waiting) => return Action::Wait,
        Some(Decision::Rejected) => {
            return Action::KeepInImmich("you chose to keep it in Immich".into());
        }
        Some(Decision::Approved) | None => {}
    }
    if f.policy.mode == DeleteMode::UploadOnly {
        return Action::KeepInImmich(
            "upload-only folder: deletes here never remove photos from Immich".into(),
        );
    }
    if f.shared {
        return Action::KeepInImmich(
            "another synced file has the same content: the asset stays".into(),
        );
    }
    if f.decision == Some(Decision::Approved) {
        return Action::TrashInImmich { confirmed: true };
    }
    match policy::local_delete(f.policy, f.born_ms, f.deleted_ms) {
        LocalDeleteDecision::Keep(reason) => Action::KeepInImmich(reason),
        LocalDeleteDecision::TrashInImmich if f.remote == Remote::Unknown => Action::LookUp,
        LocalDeleteDecision::TrashInImmich => Action::TrashInImmich { confirmed: false },
    }
}

/// What bulk-upload-check said about content waiting for upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Immich does not have it.
    Absent,
    /// Immich has it as this asset.
    Present {
        /// The asset.
        asset_id: String,
        /// In the Immich trash.
        trashed: bool,
    },
}

/// What the store remembers of content deleted in Immich.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stone {
    /// Nothing.
    None,
    /// Deleted in Immich: it stays deleted.
    Standing(RemoteGone),
    /// The user asked to upload it again.
    Forgiven,
}

/// What to do with content waiting for upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadAction {
    /// Upload it.
    Upload,
    /// Immich has it: link the files to the asset (a standing tombstone ends: it is back).
    Link,
    /// Take the asset out of the Immich trash, then link.
    RestoreAndLink,
    /// It was deleted in Immich: neither restore nor upload; the files are kept as "deleted
    /// in Immich". `new_tombstone` is set when this is the first time it is seen so.
    KeepDeleted {
        /// Record a tombstone of this kind.
        new_tombstone: Option<RemoteGone>,
    },
}

/// Decides what happens to content the uploader is about to send.
pub fn plan_upload(check: &Check, stone: Stone, trashed_by_engine: bool) -> UploadAction {
    match (check, stone) {
        (Check::Absent, Stone::None | Stone::Forgiven) => UploadAction::Upload,
        // Gone from the Immich trash meanwhile: remembered as deleted for good now.
        (Check::Absent, Stone::Standing(RemoteGone::Trashed)) => UploadAction::KeepDeleted {
            new_tombstone: Some(RemoteGone::Purged),
        },
        (Check::Absent, Stone::Standing(RemoteGone::Purged)) => UploadAction::KeepDeleted {
            new_tombstone: None,
        },
        (Check::Present { trashed: false, .. }, _) => UploadAction::Link,
        (Check::Present { trashed: true, .. }, Stone::Forgiven) => UploadAction::RestoreAndLink,
        (Check::Present { trashed: true, .. }, Stone::Standing(_)) => UploadAction::KeepDeleted {
            new_tombstone: None,
        },
        (Check::Present { trashed: true, .. }, Stone::None) if trashed_by_engine => {
            UploadAction::RestoreAndLink
        }
        (Check::Present { trashed: true, .. }, Stone::None) => UploadAction::KeepDeleted {
            new_tombstone: Some(RemoteGone::Trashed),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 1000 * DAY;

    fn policy(mode: DeleteMode) -> DeletePolicy {
        DeletePolicy {
            mode,
            threshold_days: 14.0,
            max_age_days: 3650.0,
        }
    }

    /// One row of the decision table in docs/reconciliation.md.
    struct Row {
        local: Local,
        remote: Remote,
        mode: DeleteMode,
        age_days: i64,
        shared: bool,
        decision: Option<Decision>,
        by_engine: bool,
        action: Action,
        tombstone: Option<RemoteGone>,
    }

    fn row(local: Local, remote: Remote, mode: DeleteMode, action: Action) -> Row {
        Row {
            local,
            remote,
            mode,
            age_days: 3,
            shared: false,
            decision: None,
            by_engine: false,
            action,
            tombstone: None,
        }
    }

    fn check(rows: Vec<Row>) {
        for (i, r) in rows.into_iter().enumerate() {
            let policy = policy(r.mode);
            let facts = DeleteFacts {
                local: r.local,
                remote: r.remote.clone(),
                policy: &policy,
                born_ms: NOW - r.age_days * DAY,
                deleted_ms: NOW,
                shared: r.shared,
                decision: r.decision,
                trashed_by_engine: r.by_engine,
            };
            let plan = plan_delete(&facts);
            let expected_kind = std::mem::discriminant(&r.action);
            assert_eq!(
                std::mem::discriminant(&plan.action),
                expected_kind,
                "row {i}: {facts:?} planned {plan:?}, expected {:?}",
                r.action
            );
            if !matches!(r.action, Action::KeepInImmich(_) | Action::KeepLocal(_)) {
                assert_eq!(plan.action, r.action, "row {i}");
            }
            assert_eq!(plan.tombstone, r.tombstone, "row {i}: tombstone");
        }
    }

    use DeleteMode::{KeepLocal, Mirror, UploadOnly};
    use RemoteGone::{Purged, Trashed};

    #[test]
    fn both_sides_present() {
        check(vec![
            row(Local::Present, Remote::Alive, Mirror, Action::Nothing),
            row(Local::Present, Remote::Unknown, Mirror, Action::Nothing),
            row(
                Local::Present,
                Remote::Moved("b".into()),
                Mirror,
                Action::Relink("b".into()),
            ),
            row(Local::Changed, Remote::Alive, Mirror, Action::Nothing),
        ]);
    }

    #[test]
    fn deleted_in_immich_file_still_here() {
        let keep = || Action::KeepLocal(String::new());
        check(vec![
            Row {
                tombstone: Some(Trashed),
                ..row(
                    Local::Present,
                    Remote::Gone(Trashed),
                    Mirror,
                    Action::MoveToOsTrash { confirmed: false },
                )
            },
            Row {
                tombstone: Some(Purged),
                ..row(
                    Local::Present,
                    Remote::Gone(Purged),
                    Mirror,
                    Action::MoveToOsTrash { confirmed: false },
                )
            },
            Row {
                tombstone: Some(Trashed),
                ..row(Local::Present, Remote::Gone(Trashed), KeepLocal, keep())
            },
            Row {
                tombstone: Some(Trashed),
                ..row(Local::Present, Remote::Gone(Trashed), UploadOnly, keep())
            },
            Row {
                tombstone: Some(Trashed),
                ..row(Local::Changed, Remote::Gone(Trashed), Mirror, keep())
            },
            Row {
                tombstone: Some(Trashed),
                decision: Some(Decision::Waiting),
                ..row(Local::Present, Remote::Gone(Trashed), Mirror, Action::Wait)
            },
            Row {
                tombstone: Some(Trashed),
                decision: Some(Decision::Approved),
                ..row(
                    Local::Present,
                    Remote::Gone(Trashed),
                    Mirror,
                    Action::MoveToOsTrash { confirmed: true },
                )
            },
            Row {
                tombstone: Some(Trashed),
                decision: Some(Decision::Rejected),
                ..row(Local::Present, Remote::Gone(Trashed), Mirror, keep())
            },
            // This engine trashed it after a local delete, and the file is back.
            Row {
                by_engine: true,
                ..row(
                    Local::Present,
                    Remote::Gone(Trashed),
                    Mirror,
                    Action::RestoreInImmich,
                )
            },
        ]);
    }

    #[test]
    fn deleted_here_asset_still_in_immich() {
        let keep = || Action::KeepInImmich(String::new());
        check(vec![
            row(Local::Gone, Remote::Unknown, Mirror, Action::LookUp),
            row(Local::Gone, Remote::Unknown, KeepLocal, Action::LookUp),
            row(
                Local::Gone,
                Remote::Alive,
                Mirror,
                Action::TrashInImmich { confirmed: false },
            ),
            row(Local::Gone, Remote::Alive, UploadOnly, keep()),
            Row {
                age_days: 20,
                ..row(Local::Gone, Remote::Alive, Mirror, keep())
            },
            Row {
                age_days: 20,
                ..row(Local::Gone, Remote::Unknown, Mirror, keep())
            },
            Row {
                age_days: 5000,
                ..row(Local::Gone, Remote::Alive, Mirror, keep())
            },
            Row {
                age_days: -2,
                ..row(Local::Gone, Remote::Alive, Mirror, keep())
            },
            Row {
                shared: true,
                ..row(Local::Gone, Remote::Alive, Mirror, keep())
            },
            Row {
                decision: Some(Decision::Waiting),
                ..row(Local::Gone, Remote::Alive, Mirror, Action::Wait)
            },
            Row {
                decision: Some(Decision::Approved),
                ..row(
                    Local::Gone,
                    Remote::Alive,
                    Mirror,
                    Action::TrashInImmich { confirmed: true },
                )
            },
            Row {
                decision: Some(Decision::Rejected),
                ..row(Local::Gone, Remote::Alive, Mirror, keep())
            },
            // An approval lifts the guard, not the policy.
            Row {
                decision: Some(Decision::Approved),
                shared: true,
                ..row(Local::Gone, Remote::Alive, Mirror, keep())
            },
            Row {
                decision: Some(Decision::Approved),
                ..row(Local::Gone, Remote::Alive, UploadOnly, keep())
            },
        ]);
    }

    #[test]
    fn an_unknown_age_is_never_deleted() {
        let p = policy(Mirror);
        let plan = plan_delete(&DeleteFacts {
            local: Local::Gone,
            remote: Remote::Alive,
            policy: &p,
            born_ms: crate::store::UNKNOWN_BIRTH,
            deleted_ms: NOW,
            shared: false,
            decision: None,
            trashed_by_engine: false,
        });
        assert!(
            matches!(&plan.action, Action::KeepInImmich(r) if r.contains("unknown")),
            "{plan:?}"
        );
    }

    #[test]
    fn gone_on_both_sides() {
        check(vec![
            Row {
                tombstone: Some(Trashed),
                ..row(Local::Gone, Remote::Gone(Trashed), Mirror, Action::Forget)
            },
            Row {
                tombstone: Some(Purged),
                ..row(
                    Local::Gone,
                    Remote::Gone(Purged),
                    UploadOnly,
                    Action::Forget,
                )
            },
            Row {
                by_engine: true,
                ..row(Local::Gone, Remote::Gone(Trashed), Mirror, Action::Forget)
            },
        ]);
    }

    #[test]
    fn content_waiting_for_upload() {
        let present = |trashed| Check::Present {
            asset_id: "a".into(),
            trashed,
        };
        let cases = [
            (Check::Absent, Stone::None, false, UploadAction::Upload),
            (Check::Absent, Stone::Forgiven, false, UploadAction::Upload),
            (
                Check::Absent,
                Stone::Standing(Purged),
                false,
                UploadAction::KeepDeleted {
                    new_tombstone: None,
                },
            ),
            (
                Check::Absent,
                Stone::Standing(Trashed),
                false,
                UploadAction::KeepDeleted {
                    new_tombstone: Some(Purged),
                },
            ),
            (present(false), Stone::None, false, UploadAction::Link),
            (
                present(false),
                Stone::Standing(Trashed),
                false,
                UploadAction::Link,
            ),
            (
                present(true),
                Stone::None,
                true,
                UploadAction::RestoreAndLink,
            ),
            (
                present(true),
                Stone::Forgiven,
                false,
                UploadAction::RestoreAndLink,
            ),
            (
                present(true),
                Stone::Standing(Trashed),
                true,
                UploadAction::KeepDeleted {
                    new_tombstone: None,
                },
            ),
            (
                present(true),
                Stone::None,
                false,
                UploadAction::KeepDeleted {
                    new_tombstone: Some(Trashed),
                },
            ),
        ];
        for (i, (check, stone, by_engine, expected)) in cases.into_iter().enumerate() {
            assert_eq!(plan_upload(&check, stone, by_engine), expected, "case {i}");
        }
    }
}
