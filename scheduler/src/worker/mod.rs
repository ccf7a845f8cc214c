//! ⑤ The worker pool: a fixed set of named threads that take claimed runs from the
//! dispatcher's bounded channel, execute them and send back how each ended. A thread
//! exits when the channel is closed and empty (shutdown).

pub(crate) mod executor;

use std::{sync::Arc, thread::JoinHandle};

use crossbeam_channel::{Receiver, Sender};

use crate::{
    dispatch::{Completion, Dispatch},
    error::{Error, Result},
    job::context::Execution,
};

/// Starts, for each lane, its number of worker threads taking runs from its channel
/// only (a queue's threads never run another queue's runs), named `runloom-worker-{i}`
/// with `i` counting across lanes.
pub(crate) fn spawn(
    lanes: &[(usize, &Receiver<Dispatch>)],
    env: &Arc<Execution>,
    done: &Sender<Completion>,
) -> Result<Vec<JoinHandle<()>>> {
    lanes
        .iter()
        .flat_map(|&(n, queue)| std::iter::repeat_n(queue, n))
        .enumerate()
        .map(|(i, queue)| {
            let env = env.clone();
            let queue = queue.clone();
            let done = done.clone();
            std::thread::Builder::new()
                .name(format!("runloom-worker-{i}"))
                .spawn(move || {
                    for dispatch in &queue {
                        let completion = executor::execute(&env, dispatch);
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
