#include "CLinuxShim.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

_Static_assert(sizeof(struct cw_mmsghdr) == sizeof(struct mmsghdr), "cw_mmsghdr must mirror mmsghdr");
_Static_assert(offsetof(struct cw_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len),
               "cw_mmsghdr.msg_len must mirror mmsghdr.msg_len");


int cw_tap_attach(int fd, const char *name, char *actual_name, int multi_queue) {
    struct ifreq request;
    memset(&request, 0, sizeof(request));
    // Every frame read or written starts with a struct virtio_net_hdr: written frames may
    // then be large TCP frames for the kernel to segment (see TCPCoalescer).
    request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi_queue ? IFF_MULTI_QUEUE : 0);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    int result;
    do {
        result = ioctl(fd, TUNSETIFF, &request);
    } while (result < 0 && errno == EINTR);
    if (result < 0) return -1;
    memcpy(actual_name, request.ifr_name, IFNAMSIZ);
    return 0;
}

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

int cw_udp_segmentation_supported(int fd) {
    // Zero is "no default segment size": accepted only by kernels that know the option.
    int none = 0;
    return setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &none, sizeof(none)) == 0;
}

size_t cw_udp_segment_space(void) { return CMSG_SPACE(sizeof(uint16_t)); }

void cw_request_udp_segments(struct msghdr *message, void *control, unsigned short size) {
    message->msg_control = control;
    message->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
    struct cmsghdr *header = CMSG_FIRSTHDR(message);
    header->cmsg_level = IPPROTO_UDP;
    header->cmsg_type = UDP_SEGMENT;
    header->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t segment = size;
    memcpy(CMSG_DATA(header), &segment, sizeof(segment));
}

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

int cw_udp_enable_gro(int fd) {
    int on = 1;
    return setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof(on)) == 0;
}

size_t cw_udp_gro_space(void) { return CMSG_SPACE(sizeof(int)); }

int cw_udp_gro_segment_size(const struct msghdr *message) {
    for (struct cmsghdr *header = CMSG_FIRSTHDR(message); header != NULL;
         header = CMSG_NXTHDR((struct msghdr *)message, header)) {
        if (header->cmsg_level == IPPROTO_UDP && header->cmsg_type == UDP_GRO) {
            int size;
            memcpy(&size, CMSG_DATA(header), sizeof(size));
            return size;
        }
    }
    return 0;
}

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

int cw_tap_enable_offloads(int fd) {
    return ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0;
}

int cw_tap_takes_udp_segmentation(int fd) {
    // The kernel knows UDP segmentation on a TAP (6.2 on) when it takes the flags; then the
    // flags go back, as frames read must not be UDP-segmented (nothing here cuts them).
    if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6) != 0) {
        return 0;
    }
    return cw_tap_enable_offloads(fd);
}

int cw_sendmmsg(int fd, struct cw_mmsghdr *messages, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, flags);
}

int cw_recvmmsg(int fd, struct cw_mmsghdr *messages, unsigned int count, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, flags, NULL);
}

int cw_tap_set_carrier(int fd, int on) {
    int result;
    do {
        result = ioctl(fd, TUNSETCARRIER, &on);
    } while (result < 0 && errno == EINTR);
    return result;
}

int cw_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int cw_accept_nonblocking(int listener) { return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

int cw_udp_share_port(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
}

int cw_udp_steer_by_lane(int fd, unsigned int lanes, unsigned int type_offset, unsigned int lane_offset,
                         unsigned int data, unsigned int control, unsigned int fragment) {
    // Runs on the UDP payload of every datagram for the port. A load past its end ends the
    // program with 0: lane 0, as for every message that is not transport.
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, type_offset),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, data, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, control, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, fragment, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, 0),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, lane_offset),
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, lanes),
        BPF_STMT(BPF_RET | BPF_A, 0),
    };
    struct sock_fprog program = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof(program));
}

int cw_name_this_thread(const char *name) { return pthread_setname_np(pthread_self(), name); }
