// Linux epoll (part of glibc, not in Swift's Glibc module): the loop's one epoll set.
#include <sys/epoll.h>
// timerfd: the loop's timers live in the same epoll set, so re-arming one is a plain syscall on the
// loop thread instead of a wake-up of libdispatch's manager thread.
#include <sys/timerfd.h>
// eventfd: wakes the loop thread while it waits in epoll_wait for work queued from another thread.
#include <sys/eventfd.h>
