#include "CLinuxShim.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

_Static_assert(sizeof(struct cw_mmsghdr) == sizeof(struct mmsghdr), "cw_mmsghdr must mirror mmsghdr");
_Static_assert(offsetof(struct cw_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len),
               "cw_mmsghdr.msg_len must mirror mmsghdr.msg_len");

unsigned long cw_TUNSETIFF(void) { return TUNSETIFF; }
unsigned long cw_TUNSETPERSIST(void) { return TUNSETPERSIST; }
int cw_IFF_TAP(void) { return IFF_TAP; }
int cw_IFF_NO_PI(void) { return IFF_NO_PI; }

int cw_tap_attach(int fd, const char *name, char *actual_name) {
    struct ifreq request;
    memset(&request, 0, sizeof(request));
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    int result;
    do {
        result = ioctl(fd, TUNSETIFF, &request);
    } while (result < 0 && errno == EINTR);
    if (result < 0) return -1;
    memcpy(actual_name, request.ifr_name, IFNAMSIZ);
    return 0;
}

int cw_sendmmsg(int fd, struct cw_mmsghdr *messages, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, flags);
}

int cw_recvmmsg(int fd, struct cw_mmsghdr *messages, unsigned int count, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, flags, NULL);
}

int cw_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int cw_accept_nonblocking(int listener) { return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }
