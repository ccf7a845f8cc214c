//! ⑤ The worker pool: a fixed set of named threads that take claimed runs from the
//! dispatcher's bounded channel, execute them and send back how each ended. A thread
//! exits when the channel is closed and empty (shutdown).

pub(crate) mod executor;

use std::{sync::Arc, thread::JoinHandle};

use crossbeam_channel::{Receiver, Sender};

use crate::{
    dispatch::{Completion, Dispatch},
    error::{Error, Result},
    scheduler::Shared,
};

/// Starts `n` worker threads named `runloom-worker-{i}`.
pub(crate) fn spawn(
    n: usize,
    shared: &Arc<Shared>,
    queue: &Receiver<Dispatch>,
    done: &Sender<Completion>,
) -> Result<Vec<JoinHandle<()>>> {
    (0..n)
        .map(|i| {
            let shared = shared.clone();
            let queue = queue.clone();
            let done = done.clone();
            std::thread::Builder::new()
                .name(format!("runloom-worker-{i}"))
                .spawn(move || {
                    for dispatch in &queue {
                        let completion = executor::execute(&shared, dispatch);
                        if done.send(completion).is_err() {
                            // The dispatcher is gone: nothing can record outcomes now;
                            // the leases expire and the runs are rescued.
                            break;
                        }
                    }
                })
                .map_err(Error::Thread)
        })
        .collect()
}
