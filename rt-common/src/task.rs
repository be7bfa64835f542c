//! Small task tools of a shard thread: a wake-up signal, a race of two futures, and the guard
//! that turns a panic in any task into a reported shard failure.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A wake-up within one shard thread: raised by one task, awaited by one other.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    raised: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Signal {
    /// Raises the signal and wakes its waiter.
    pub(crate) fn raise(&self) {
        self.raised.set(true);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Lowers the signal, returning whether it was raised.
    pub(crate) fn take(&self) -> bool {
        self.raised.replace(false)
    }

    /// Ready once the signal is raised (it stays raised).
    pub(crate) fn poll_raised(&self, cx: &Context<'_>) -> Poll<()> {
        if self.raised.get() {
            return Poll::Ready(());
        }
        let mut waker = self.waker.borrow_mut();
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Waits until the signal is raised.
    pub(crate) fn raised(&self) -> impl Future<Output = ()> + '_ {
        poll_fn(|cx| self.poll_raised(cx))
    }
}

/// Which of two raced futures finished first.
pub(crate) enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Runs two futures until the first finishes (`a` is polled first); the other is dropped.
pub(crate) async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        b.as_mut().poll(cx).map(Either::Right)
    })
    .await
}

/// What ended a shard early: the message of a panic in one of its tasks.
#[derive(Debug, Default)]
pub(crate) struct Failure {
    message: RefCell<Option<String>>,
    /// Raised at the first panic; the shard's main task stops on it.
    pub(crate) signal: Signal,
}

impl Failure {
    /// The message of the first panic, if any.
    pub(crate) fn take_message(&self) -> Option<String> {
        self.message.borrow_mut().take()
    }

    /// Records a panic (the first one only) and raises the signal.
    fn record(&self, payload: &(dyn Any + Send)) {
        let message = panic_message(payload);
        let mut slot = self.message.borrow_mut();
        if slot.is_none() {
            *slot = Some(message);
        }
        drop(slot);
        self.signal.raise();
    }
}

impl Failure {
    /// One poll of a task, catching a panic: the task then ends and the panic is recorded,
    /// which stops the shard (the runtimes disagree on what a panicking task does, so the
    /// driver decides, the same way for all).
    pub(crate) fn guard(&self, poll: impl FnOnce() -> Poll<()>) -> Poll<()> {
        catch_unwind(AssertUnwindSafe(poll)).unwrap_or_else(|payload| {
            self.record(&*payload);
            Poll::Ready(())
        })
    }
}

/// Runs `task`, each poll through [`Failure::guard`].
pub(crate) async fn guarded(failure: Rc<Failure>, task: impl Future<Output = ()>) {
    let mut task = pin!(task);
    poll_fn(|cx| failure.guard(|| task.as_mut().poll(cx))).await
}

/// The message of a panic's payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
