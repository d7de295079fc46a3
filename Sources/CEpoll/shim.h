// Linux epoll (part of glibc, not in Swift's Glibc module): the loop's one epoll set.
#include <sys/epoll.h>
