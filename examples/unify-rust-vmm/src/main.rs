//! A vhost-user device whose custom file descriptor is watched by an
//! event-manager loop: the `EventSet` event-manager hands out is passed to
//! vhost-user-backend's `handle_event`. That compiles only when both crates
//! use one vmm-sys-util.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use event_manager::{EventManager, EventOps, Events, MutEventSubscriber, SubscriberOps};
use vhost::vhost_user::message::VhostUserProtocolFeatures;
use vhost_user_backend::{VhostUserBackend, VringRwLock};
use vm_memory::{GuestMemoryAtomic, GuestMemoryMmap};
use vmm_sys_util::epoll::EventSet;

/// A device with no queues that counts the events of its own listener.
#[derive(Default)]
struct Device {
    events: AtomicUsize,
}

impl VhostUserBackend<VringRwLock> for Device {
    fn num_queues(&self) -> usize {
        0
    }
    fn max_queue_size(&self) -> usize {
        0
    }
    fn features(&self) -> u64 {
        0
    }
    fn protocol_features(&self) -> VhostUserProtocolFeatures {
        VhostUserProtocolFeatures::empty()
    }
    fn set_event_idx(&self, _enabled: bool) {}
    fn update_memory(&self, _mem: GuestMemoryAtomic<GuestMemoryMmap>) -> std::io::Result<()> {
        Ok(())
    }
    fn handle_event(
        &self,
        device_event: u16,
        evset: EventSet,
        _vrings: &[VringRwLock],
        _thread_id: usize,
    ) -> std::io::Result<bool> {
        println!("device event {device_event}: {evset:?}");
        self.events.fetch_add(1, Ordering::SeqCst);
        Ok(false)
    }
}

/// The event-manager side: forwards what its loop sees to the device.
struct Listener {
    socket: UnixStream,
    device: Arc<Device>,
}

impl MutEventSubscriber for Listener {
    fn init(&mut self, ops: &mut EventOps) {
        ops.add(Events::new(&self.socket, event_manager::EventSet::IN))
            .expect("cannot watch the socket");
    }

    fn process(&mut self, events: Events, _ops: &mut EventOps) {
        // event-manager's EventSet into vhost-user-backend's handle_event.
        self.device
            .handle_event(0, events.event_set(), &[], 0)
            .expect("the device handles the event");
    }
}

fn main() {
    let (socket, mut peer) = UnixStream::pair().expect("a socket pair");
    let device = Arc::new(Device::default());
    let mut manager = EventManager::<Listener>::new().expect("an event manager");
    manager.add_subscriber(Listener {
        socket,
        device: Arc::clone(&device),
    });
    peer.write_all(b"x").expect("write to the socket");
    manager.run_with_timeout(1000).expect("the event loop runs");
    println!(
        "ok: event-manager and vhost-user-backend share one vmm-sys-util ({} event handled)",
        device.events.load(Ordering::SeqCst)
    );
}
