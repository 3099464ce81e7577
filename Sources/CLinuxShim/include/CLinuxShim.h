#ifndef CAUSEWAY_CLINUXSHIM_H
#define CAUSEWAY_CLINUXSHIM_H

// The kernel interfaces Swift's Glibc module does not import: the TUN ioctls (function-like
// _IOW macros) and sendmmsg/recvmmsg with their mmsghdr. _GNU_SOURCE stays in the .c file;
// defining it here would clash with the Glibc module's fd_set.

#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>

/// Mirrors struct mmsghdr from <sys/socket.h>, which is only declared under _GNU_SOURCE.
struct cw_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// Creates or attaches the TAP device `name` on the open /dev/net/tun descriptor `fd`; with
/// `multi_queue`, as one more queue of a multi-queue device (IFF_MULTI_QUEUE). Returns 0, or
/// -1 with errno set. `actual_name` receives the kernel's name (IFNAMSIZ bytes).
int cw_tap_attach(int fd, const char *name, char *actual_name, int multi_queue);

/// Names the calling thread as `top -H` and /proc/PID/task/TID/comm show it (15 bytes at
/// most, NUL-terminated). Returns 0, or an errno.
int cw_name_this_thread(const char *name);

/// Lets further sockets bind the same address and port (SO_REUSEPORT), as the lanes' do.
/// Returns 0, or -1 with errno set.
int cw_udp_share_port(int fd);

/// Attaches to the port's group of sockets a classic BPF program that hands each datagram to
/// the socket in the place its sender's lane names: the byte at `lane_offset` modulo `lanes`
/// for the message types `data`, `control` and `fragment` (type byte at `type_offset`), the
/// first socket for everything else. Returns 0, or -1 with errno set.
int cw_udp_steer_by_lane(int fd, unsigned int lanes, unsigned int type_offset, unsigned int lane_offset,
                         unsigned int data, unsigned int control, unsigned int fragment);

/// Lets the kernel hand the TAP TCP frames of up to 64 KiB and frames with the transport
/// checksum left to fill in (TUN_F_CSUM, TSO4, TSO6). 1 when it will, 0 when it cannot.
int cw_tap_enable_offloads(int fd);

/// Whether frames written to the TAP may ask for UDP segmentation (VIRTIO_NET_HDR_GSO_UDP_L4,
/// Linux 6.2 on; older kernels refuse such a write). Leaves the offloads of
/// `cw_tap_enable_offloads` in force. 1 when it may, 0 when not.
int cw_tap_takes_udp_segmentation(int fd);

/// Turns the TAP's carrier on or off (TUNSETCARRIER, Linux 4.19 on): without it the bridge
/// stops forwarding into the port, and `ip link` shows NO-CARRIER. 0, or -1 with errno.
int cw_tap_set_carrier(int fd, int on);

/// A non-blocking, close-on-exec eventfd; -1 with errno on failure.
int cw_eventfd(void);

/// accept4(2) (a GNU extension): the next connection as a non-blocking, close-on-exec
/// descriptor, or -1 with errno (EAGAIN when none waits).
int cw_accept_nonblocking(int listener);

/// Whether this kernel cuts one UDP send into equal datagrams (UDP GSO, Linux 4.18 on).
int cw_udp_segmentation_supported(int fd);

/// The bytes of control data one UDP_SEGMENT request takes.
size_t cw_udp_segment_space(void);

/// Makes `message` a UDP GSO send: its payload leaves as datagrams of `size` bytes (the
/// last may be shorter). `control` holds cw_udp_segment_space() bytes and must outlive the send.
void cw_request_udp_segments(struct msghdr *message, void *control, unsigned short size);

/// Asks the kernel to deliver runs of datagrams from one sender as one buffer (UDP GRO,
/// Linux 5.0 on); 1 when it will, 0 when it cannot.
int cw_udp_enable_gro(int fd);

/// The bytes of control data a received UDP_GRO segment size takes.
size_t cw_udp_gro_space(void);

/// The size of the datagrams a received buffer holds back to back (the last may be
/// shorter), or 0 when it holds one datagram.
int cw_udp_gro_segment_size(const struct msghdr *message);

int cw_sendmmsg(int fd, struct cw_mmsghdr *messages, unsigned int count, int flags);
int cw_recvmmsg(int fd, struct cw_mmsghdr *messages, unsigned int count, int flags);

#endif
