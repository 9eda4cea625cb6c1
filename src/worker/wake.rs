//! When a queue's claim loop ([`super::queue`]) looks for work, and how it
//! waits when there is none: a small state machine without I/O, so that
//! each transition is tested alone.
//!
//! The loop performs the [`Action`] of its [`State`] (claim, linger, read
//! the pause, arm the wake-up row, wait), turns what happened into an
//! [`Event`] and asks [`next`] for the following state.
//!
//! Why it is shaped this way:
//! - A claim that comes back short means the queue is drained. Before
//!   sleeping, the loop arms its wake-up row (so that the next enqueue on
//!   this queue notifies) and then looks once more: an enqueue that
//!   committed just before arming was not announced.
//! - Arming costs producers a NOTIFY each (every notifying commit takes a
//!   cluster-wide lock through its WAL flush), so a drained queue first
//!   lingers [`REARM_DELAY`] and looks again: under a steady stream of
//!   enqueues that look finds work and the queue never arms.
//! - Where lingering does not pay (jobs come one at a time, further apart
//!   than a linger, so its look finds nothing), a drained queue arms at
//!   once: one look fewer between a job and the next one's wake-up, which
//!   counts when the server is slow. Lingering pays again once its look
//!   finds work, or once a notification comes sooner after arming than a
//!   linger lasts (a linger would have found that job unannounced).
//! - A queue whose notifications keep finding nothing (other nodes take the
//!   jobs first, or the queue is paused) lingers longer before it re-arms
//!   ([`rearm_delay`]), and one found paused is not armed at all until a
//!   notification (`weir.resume_queue` sends one to every listener, armed
//!   or not) or the fallback poll: its producers send no NOTIFY meanwhile.
//!
//! The runner cannot tell a notification of an enqueue from one of
//! `weir.resume_queue` or from the listener's reconnect (which wakes
//! every queue, since notifications sent meanwhile were lost): all three
//! are [`Event::Notified`].
//!
//! | phase | action | event | next phase |
//! | --- | --- | --- | --- |
//! | `Claiming` | claim | full | `Claiming` |
//! | | | fewer, or none | `Lingering` if lingering pays or notifications found nothing, else `Arming` |
//! | `Lingering` | sleep | linger over | `AfterLinger` |
//! | `AfterLinger` | claim | full | `Claiming` (lingering pays) |
//! | | | fewer | `Lingering` (lingering pays) |
//! | | | none | `CheckingPause` after empty notifications, else `Arming` (lingering does not pay) |
//! | `CheckingPause` | read the pause | paused | `Paused` |
//! | | | not paused | `Arming` |
//! | `Arming` | arm the wake-up row | armed | `ArmedClaiming` |
//! | | | failed | `Asleep` |
//! | `ArmedClaiming` | claim | full | `ArmedClaiming` |
//! | | | fewer, or none | `Asleep` |
//! | `Asleep`, `Paused` | wait | notification, poll tick | `Claiming` |

use std::time::Duration;

/// How long a queue that just ran out of work waits before it looks once
/// more and only then arms its wake-up row. Under a steady stream of
/// enqueues the second look usually finds work, so a busy queue never
/// re-arms and producers send no NOTIFY (each notifying commit takes a
/// cluster-wide lock through its WAL flush); an idle queue arms this much
/// later, which only delays jobs that arrive within this window after a
/// drain.
pub const REARM_DELAY: Duration = Duration::from_millis(5);

/// The longest linger. A queue whose notifications keep finding nothing
/// (other nodes take the jobs first; a paused queue is not re-armed at
/// all) doubles its linger after each such wake-up, up to this: it
/// re-arms ~20 times a second instead of ~200, and producers send that
/// many fewer NOTIFYs. A wake-up that finds work, or a fallback poll,
/// starts over at [`REARM_DELAY`].
pub const MAX_REARM_DELAY: Duration = Duration::from_millis(50);

/// The linger after `empty_wakes` notifications in a row found nothing.
pub fn rearm_delay(empty_wakes: u32) -> Duration {
    REARM_DELAY
        .saturating_mul(1 << empty_wakes.min(8))
        .min(MAX_REARM_DELAY)
}

/// Where the claim loop is; each phase has one [`Action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Claim: at start, after a claim that filled every free slot, or
    /// after a wake-up (`notified` when it was a notification).
    Claiming { notified: bool },
    /// The queue just ran out of work: sleep this long, then look again.
    Lingering(Duration),
    /// Claim once more, unarmed, after a linger.
    AfterLinger,
    /// Notifications found nothing: read whether the queue is paused
    /// before arming.
    CheckingPause,
    /// Arm the wake-up row, so that the next enqueue here notifies.
    Arming,
    /// Claim with the wake-up row armed: the look after arming, and the
    /// claims after it while they fill every free slot.
    ArmedClaiming,
    /// Wait for a notification or the fallback poll (armed, unless arming
    /// failed).
    Asleep,
    /// Wait, unarmed, for a notification or the fallback poll: the queue
    /// is paused.
    Paused,
}

/// What the loop does in a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Claim as many jobs as there are free slots.
    Claim,
    /// Sleep this long.
    Linger(Duration),
    /// Read whether the queue is paused.
    ReadPause,
    /// Arm the wake-up row.
    Arm,
    /// Wait for a notification or the fallback poll.
    Wait,
}

/// What happened when the loop did its [`Action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A claim took a job for every free slot: there may be more.
    ClaimedFull,
    /// A claim took some jobs, fewer than the free slots: the queue is
    /// drained.
    ClaimedFewer,
    /// A claim found nothing.
    ClaimedNone,
    /// The linger is over.
    LingerOver,
    /// The queue is paused.
    FoundPaused,
    /// The queue is not paused (or that could not be read: it is then
    /// armed as usual).
    FoundNotPaused,
    /// The wake-up row is armed.
    Armed,
    /// Arming the wake-up row failed: wait unarmed.
    ArmFailed,
    /// A notification: an enqueue on the armed queue, `weir.resume_queue`,
    /// or the listener's reconnect. `since_armed` is the time since the
    /// wake-up row was last armed.
    Notified { since_armed: Duration },
    /// The fallback poll came first.
    PollTick,
}

/// The claim loop's wake-up state: its phase, and what it remembers
/// across phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub phase: Phase,
    /// Notifications in a row that found no work.
    pub empty_wakes: u32,
    /// Whether lingering pays off here (see the module doc).
    pub linger_pays: bool,
}

impl Default for State {
    /// The state at start: look for work at once.
    fn default() -> Self {
        State {
            phase: Phase::Claiming { notified: false },
            empty_wakes: 0,
            linger_pays: true,
        }
    }
}

impl State {
    /// The action of this state's phase.
    pub fn action(&self) -> Action {
        match self.phase {
            Phase::Claiming { .. } | Phase::AfterLinger | Phase::ArmedClaiming => Action::Claim,
            Phase::Lingering(d) => Action::Linger(d),
            Phase::CheckingPause => Action::ReadPause,
            Phase::Arming => Action::Arm,
            Phase::Asleep | Phase::Paused => Action::Wait,
        }
    }

    fn to(self, phase: Phase) -> State {
        State { phase, ..self }
    }

    /// The unarmed queue ran out of work: linger when lingering pays or
    /// notifications keep finding nothing (then longer each time),
    /// otherwise arm at once.
    fn drained(self) -> State {
        if self.linger_pays || self.empty_wakes > 0 {
            self.to(Phase::Lingering(rearm_delay(self.empty_wakes)))
        } else {
            self.to(Phase::Arming)
        }
    }
}

/// The state after `event` in `state`, and the action it asks for. An
/// event the phase does not expect (the loop never sends one) changes
/// nothing.
pub fn next(state: State, event: Event) -> (State, Action) {
    use Event::*;
    use Phase::*;
    // A claim that found work ends any run of empty notifications.
    let found_work = State {
        empty_wakes: 0,
        ..state
    };
    let s = match (state.phase, event) {
        (Claiming { .. }, ClaimedFull) => found_work.to(Claiming { notified: false }),
        (Claiming { .. }, ClaimedFewer) => found_work.drained(),
        (Claiming { notified }, ClaimedNone) => State {
            empty_wakes: state.empty_wakes.saturating_add(notified.into()),
            ..state
        }
        .drained(),

        (Lingering(_), LingerOver) => state.to(AfterLinger),

        // The look after a linger found work: lingering pays.
        (AfterLinger, ClaimedFull) => State {
            linger_pays: true,
            ..found_work
        }
        .to(Claiming { notified: false }),
        (AfterLinger, ClaimedFewer) => State {
            linger_pays: true,
            ..found_work
        }
        .drained(),
        (AfterLinger, ClaimedNone) if state.empty_wakes > 0 => state.to(CheckingPause),
        // The look after a linger found nothing: jobs come further apart
        // than a linger lasts.
        (AfterLinger, ClaimedNone) => State {
            linger_pays: false,
            ..state
        }
        .to(Arming),

        // A paused queue is not armed, so its producers send no NOTIFY;
        // weir.resume_queue notifies its listeners whether armed or not.
        (CheckingPause, FoundPaused) => state.to(Paused),
        (CheckingPause, FoundNotPaused) => state.to(Arming),

        (Arming, Armed) => state.to(ArmedClaiming),
        (Arming, ArmFailed) => state.to(Asleep),

        (ArmedClaiming, ClaimedFull) => found_work.to(ArmedClaiming),
        (ArmedClaiming, ClaimedFewer) => found_work.to(Asleep),
        (ArmedClaiming, ClaimedNone) => state.to(Asleep),

        // Whatever woke us, the wake-up row may be disarmed now.
        (Asleep, Notified { since_armed }) => State {
            // A linger would have found this job unannounced.
            linger_pays: state.linger_pays || since_armed < REARM_DELAY,
            ..state
        }
        .to(Claiming { notified: true }),
        (Asleep, PollTick) => State {
            empty_wakes: 0,
            ..state
        }
        .to(Claiming { notified: false }),
        (Paused, Notified { .. }) => state.to(Claiming { notified: true }),
        (Paused, PollTick) => state.to(Claiming { notified: false }),

        _ => state,
    };
    (s, s.action())
}

#[cfg(test)]
mod tests {
    use super::Event::*;
    use super::Phase::*;
    use super::*;

    fn at(phase: Phase, empty_wakes: u32, linger_pays: bool) -> State {
        State {
            phase,
            empty_wakes,
            linger_pays,
        }
    }

    /// Asserts that `event` in `from` leads to `to`, asking for its action.
    #[track_caller]
    fn goes(from: State, event: Event, to: State) {
        assert_eq!(
            next(from, event),
            (to, to.action()),
            "{event:?} in {from:?}"
        );
    }

    const CLAIMING: Phase = Claiming { notified: false };
    const NOTIFIED: Phase = Claiming { notified: true };
    const LINGERING: Phase = Lingering(REARM_DELAY);
    const SOON: Event = Notified {
        since_armed: Duration::from_millis(2),
    };
    const LATE: Event = Notified {
        since_armed: Duration::from_secs(1),
    };

    #[test]
    fn the_linger_doubles_per_empty_wake_up_up_to_the_cap() {
        assert_eq!(rearm_delay(0), REARM_DELAY);
        assert_eq!(rearm_delay(1), Duration::from_millis(10));
        assert_eq!(rearm_delay(3), Duration::from_millis(40));
        assert_eq!(rearm_delay(4), MAX_REARM_DELAY);
        assert_eq!(rearm_delay(u32::MAX), MAX_REARM_DELAY);
    }

    #[test]
    fn each_phase_asks_for_its_action_and_the_loop_starts_by_claiming() {
        assert_eq!(State::default(), at(CLAIMING, 0, true));
        let d = Duration::from_millis(7);
        for (phase, action) in [
            (CLAIMING, Action::Claim),
            (NOTIFIED, Action::Claim),
            (Lingering(d), Action::Linger(d)),
            (AfterLinger, Action::Claim),
            (CheckingPause, Action::ReadPause),
            (Arming, Action::Arm),
            (ArmedClaiming, Action::Claim),
            (Asleep, Action::Wait),
            (Paused, Action::Wait),
        ] {
            assert_eq!(at(phase, 0, true).action(), action, "{phase:?}");
        }
    }

    #[test]
    fn a_full_claim_claims_again_and_ends_a_run_of_empty_wake_ups() {
        goes(at(NOTIFIED, 3, false), ClaimedFull, at(CLAIMING, 0, false));
        goes(at(CLAIMING, 0, true), ClaimedFull, at(CLAIMING, 0, true));
    }

    #[test]
    fn a_drained_queue_lingers_where_lingering_pays() {
        goes(at(CLAIMING, 0, true), ClaimedFewer, at(LINGERING, 0, true));
        goes(at(CLAIMING, 0, true), ClaimedNone, at(LINGERING, 0, true));
        // Work found after a notification ends the run of empty ones.
        goes(at(NOTIFIED, 2, true), ClaimedFewer, at(LINGERING, 0, true));
    }

    #[test]
    fn a_drained_queue_arms_at_once_where_lingering_does_not_pay() {
        goes(at(CLAIMING, 0, false), ClaimedFewer, at(Arming, 0, false));
        goes(at(CLAIMING, 0, false), ClaimedNone, at(Arming, 0, false));
    }

    #[test]
    fn a_notification_that_finds_nothing_lingers_longer_each_time() {
        for n in 0..6 {
            let longer = Lingering(rearm_delay(n + 1));
            goes(
                at(NOTIFIED, n, false),
                ClaimedNone,
                at(longer, n + 1, false),
            );
        }
        // A look after a poll tick (of a paused queue) counts no more.
        let same = Lingering(rearm_delay(2));
        goes(at(CLAIMING, 2, false), ClaimedNone, at(same, 2, false));
    }

    #[test]
    fn the_linger_ends_in_a_second_look() {
        goes(at(LINGERING, 1, true), LingerOver, at(AfterLinger, 1, true));
    }

    #[test]
    fn work_found_after_a_linger_means_lingering_pays() {
        goes(
            at(AfterLinger, 0, false),
            ClaimedFull,
            at(CLAIMING, 0, true),
        );
        goes(
            at(AfterLinger, 2, false),
            ClaimedFewer,
            at(LINGERING, 0, true),
        );
    }

    #[test]
    fn nothing_found_after_a_linger_arms_and_stops_lingering() {
        goes(at(AfterLinger, 0, true), ClaimedNone, at(Arming, 0, false));
    }

    #[test]
    fn nothing_found_after_empty_notifications_reads_the_pause_first() {
        // That linger was the longer one of empty notifications, not a
        // test of whether lingering pays: that is left as it was.
        for pays in [true, false] {
            goes(
                at(AfterLinger, 2, pays),
                ClaimedNone,
                at(CheckingPause, 2, pays),
            );
        }
    }

    #[test]
    fn a_paused_queue_waits_unarmed_and_an_unpaused_one_arms() {
        goes(at(CheckingPause, 1, true), FoundPaused, at(Paused, 1, true));
        goes(
            at(CheckingPause, 1, true),
            FoundNotPaused,
            at(Arming, 1, true),
        );
    }

    #[test]
    fn arming_is_followed_by_a_look_or_on_failure_by_an_unarmed_wait() {
        goes(at(Arming, 1, false), Armed, at(ArmedClaiming, 1, false));
        goes(at(Arming, 1, false), ArmFailed, at(Asleep, 1, false));
    }

    #[test]
    fn an_armed_queue_claims_while_claims_are_full_then_sleeps() {
        goes(
            at(ArmedClaiming, 2, true),
            ClaimedFull,
            at(ArmedClaiming, 0, true),
        );
        goes(
            at(ArmedClaiming, 2, true),
            ClaimedFewer,
            at(Asleep, 0, true),
        );
        goes(at(ArmedClaiming, 2, true), ClaimedNone, at(Asleep, 2, true));
    }

    #[test]
    fn a_notification_soon_after_arming_means_lingering_pays() {
        goes(at(Asleep, 1, false), SOON, at(NOTIFIED, 1, true));
        goes(at(Asleep, 1, false), LATE, at(NOTIFIED, 1, false));
    }

    #[test]
    fn a_poll_tick_wakes_a_sleeping_queue_and_forgets_empty_notifications() {
        goes(at(Asleep, 3, false), PollTick, at(CLAIMING, 0, false));
    }

    #[test]
    fn a_paused_queue_is_woken_by_a_notification_or_the_poll() {
        // Not armed: how soon after the last arming does not count.
        goes(at(Paused, 3, false), SOON, at(NOTIFIED, 3, false));
        goes(at(Paused, 3, false), PollTick, at(CLAIMING, 3, false));
    }

    #[test]
    fn an_event_the_phase_does_not_expect_changes_nothing() {
        goes(at(Asleep, 1, true), ClaimedFull, at(Asleep, 1, true));
        goes(at(CLAIMING, 0, true), LATE, at(CLAIMING, 0, true));
    }

    /// Runs the events from the start, asserting the action each asks for.
    #[track_caller]
    fn replay(steps: &[(Event, Action)]) {
        let mut s = State::default();
        for (i, (event, action)) in steps.iter().enumerate() {
            let a;
            (s, a) = next(s, *event);
            assert_eq!(a, *action, "step {i}: {event:?}");
        }
    }

    #[test]
    fn under_a_steady_stream_the_queue_lingers_and_never_arms() {
        use Action::*;
        replay(&[
            (ClaimedFewer, Linger(REARM_DELAY)),
            (LingerOver, Claim),
            (ClaimedFewer, Linger(REARM_DELAY)),
            (LingerOver, Claim),
            (ClaimedFull, Claim),
        ]);
    }

    #[test]
    fn a_queue_paused_after_a_notification_stops_arming() {
        use Action::*;
        let longer = Linger(rearm_delay(1));
        replay(&[
            (ClaimedNone, Linger(REARM_DELAY)), // at start lingering pays
            (LingerOver, Claim),
            (ClaimedNone, Arm), // it does not: arm at once from now on
            (Armed, Claim),
            (ClaimedNone, Wait),
            (LATE, Claim), // an enqueue; the queue was paused meanwhile
            (ClaimedNone, longer),
            (LingerOver, Claim),
            (ClaimedNone, ReadPause),
            (FoundPaused, Wait),
            (PollTick, Claim),
            (ClaimedNone, longer),
            (LingerOver, Claim),
            (ClaimedNone, ReadPause),
            (FoundNotPaused, Arm), // resumed
        ]);
    }
}
