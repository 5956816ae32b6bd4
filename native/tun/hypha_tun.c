// Hypha's Linux TUN addon (N-API, plain C, no dependencies).
//
// Node cannot issue the TUNSETIFF ioctl, and its libuv file reads cost a threadpool round trip per packet.
// This addon does the few things JavaScript cannot do cheaply:
//   - open():      /dev/net/tun + TUNSETIFF (IFF_TUN | IFF_NO_PI), returning the fd;
//   - configure(): MTU and IFF_UP by ioctl on an AF_INET6 socket, and the overlay address with its prefix
//                  length by one rtnetlink RTM_NEWADDR with IFA_F_NODAD (usable at once): no fork of `ip`,
//                  no dependency on iproute2, and errno says exactly which step failed;
//   - a reader thread that blocks in poll(), drains up to READ_BATCH_PACKETS packets per wakeup and hands
//     them to JavaScript as ONE call through a threadsafe function (one ArrayBuffer + a lengths array), so
//     the per-packet cost on the JS thread is a subarray and a function call;
//   - two write paths: writeDirect() (one write() on the calling thread) and a writer thread fed through a
//     single-producer/single-consumer ring (JS copies the packet into a slot; the writer thread does the
//     syscall, and it is woken by an eventfd only when it was idle, once per burst when JS defers the
//     wakeup to kick()), so the kernel's work on a written packet runs on another core than the JS thread.
//     bench/tun-io.ts measures both.
// Errors are thrown as JS Errors with `code` set to the errno name ("EPERM", "EBUSY", ...) and `syscall`
// naming the failed step; src/dataplane/tun.ts turns them into messages for people.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

// configure() waits at most this long for the kernel to make the new address routable.
#define LOCAL_ROUTE_WAIT_MS 2000
#define READ_BATCH_PACKETS 64
// Room for one packet of any size the kernel could hand us (a user may raise the MTU behind our back;
// a short buffer would silently truncate the packet).
#define READ_MAX_PACKET_BYTES 65536
// The reader stops filling a batch once less than this much slab is left, so slabs stay small.
#define READ_SLAB_BYTES (READ_BATCH_PACKETS * 2048 + READ_MAX_PACKET_BYTES)
// Batches waiting for the JS thread; when full the reader blocks and the kernel's TUN queue absorbs
// (then drops) the excess, which is where backpressure belongs.
#define READ_QUEUE_BATCHES 8

#define CHECK(call)                                                                                        \
  do {                                                                                                     \
    if ((call) != napi_ok) return throw_last(env);                                                         \
  } while (0)

static napi_value throw_last(napi_env env) {
  const napi_extended_error_info* info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "EADDON", info && info->error_message ? info->error_message : "N-API call failed");
  return NULL;
}

static const char* errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EBADFD: return "EBADFD";
    case EIO: return "EIO";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case ENOBUFS: return "ENOBUFS";
    case EMSGSIZE: return "EMSGSIZE";
    case EFAULT: return "EFAULT";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTO: return "EPROTO";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOTTY: return "ENOTTY";
    default: return "EUNKNOWN";
  }
}

// Throws Error(`${syscall}: ${strerror}`) with .code, .errno and .syscall, like Node's own system errors.
static napi_value throw_errno(napi_env env, const char* syscall, int e) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", syscall, strerror(e));
  napi_value m, c, error, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &c);
  napi_create_error(env, c, m, &error);
  napi_create_int32(env, e, &v);
  napi_set_named_property(env, error, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, error, "syscall", v);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char* msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG", msg);
  return NULL;
}

static bool get_ifname(napi_env env, napi_value v, char out[IFNAMSIZ]) {
  size_t len = 0;
  memset(out, 0, IFNAMSIZ);
  if (napi_get_value_string_utf8(env, v, out, IFNAMSIZ, &len) != napi_ok) return false;
  return len > 0 && len < IFNAMSIZ;
}

static bool get_bytes(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (!is_ta) return false;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, len, (void**)data, &ab, &offset) != napi_ok) return false;
  return type == napi_uint8_array;
}

// open(name: string, nonBlocking: boolean) → { fd, name }
static napi_value tun_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ];
  if (argc < 2 || !get_ifname(env, argv[0], name)) return throw_type(env, "open(name, nonBlocking): name must be 1-15 bytes");
  bool nonblock = false;
  napi_get_value_bool(env, argv[1], &nonblock);

  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
  if (fd < 0) return throw_errno(env, "open /dev/net/tun", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, IFNAMSIZ);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "ioctl TUNSETIFF", e);
  }
  napi_value result, v;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, fd, &v));
  CHECK(napi_set_named_property(env, result, "fd", v));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ), &v));
  CHECK(napi_set_named_property(env, result, "name", v));
  return result;
}

// Adds address/prefix to interface `ifindex` with IFA_F_NODAD by one RTM_NEWADDR message. Not the
// SIOCSIFADDR ioctl: that cannot pass flags, so the address would stay "tentative" until the kernel's DAD
// work item runs, and a socket bound to it in that window fails with EADDRNOTAVAIL. Returns 0 or an errno.
static int add_address_nodad(int ifindex, const uint8_t addr[16], uint32_t prefix) {
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) return errno;
  struct {
    struct nlmsghdr nh;
    struct ifaddrmsg ifa;
    char attrs[2 * RTA_SPACE(16) + RTA_SPACE(4)];
  } req;
  memset(&req, 0, sizeof req);
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.ifa);
  req.nh.nlmsg_type = RTM_NEWADDR;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
  req.nh.nlmsg_seq = 1;
  req.ifa.ifa_family = AF_INET6;
  req.ifa.ifa_prefixlen = (uint8_t)prefix;
  req.ifa.ifa_flags = IFA_F_NODAD;
  req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  req.ifa.ifa_index = (uint32_t)ifindex;
  const unsigned short types[2] = {IFA_LOCAL, IFA_ADDRESS};
  for (int i = 0; i < 2; i++) {
    struct rtattr* rta = (struct rtattr*)((char*)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
    rta->rta_type = types[i];
    rta->rta_len = RTA_LENGTH(16);
    memcpy(RTA_DATA(rta), addr, 16);
    req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_SPACE(16);
  }
  struct rtattr* rta = (struct rtattr*)((char*)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
  rta->rta_type = IFA_FLAGS;
  rta->rta_len = RTA_LENGTH(4);
  uint32_t flags = IFA_F_NODAD;
  memcpy(RTA_DATA(rta), &flags, 4);
  req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_SPACE(4);

  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  int result = 0;
  if (sendto(s, &req, req.nh.nlmsg_len, 0, (struct sockaddr*)&kernel, sizeof kernel) < 0) {
    result = errno;
  } else {
    // The kernel answers with one NLMSG_ERROR carrying 0 (the ACK) or -errno.
    char buf[4096];
    ssize_t n;
    do n = recv(s, buf, sizeof buf, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      result = errno;
    } else {
      result = EPROTO;
      for (struct nlmsghdr* nh = (struct nlmsghdr*)buf; NLMSG_OK(nh, (unsigned)n); nh = NLMSG_NEXT(nh, n)) {
        if (nh->nlmsg_type == NLMSG_ERROR && nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
          result = -((struct nlmsgerr*)NLMSG_DATA(nh))->error;
          break;
        }
      }
    }
  }
  close(s);
  return result;
}

// The kernel installs the local route of a new address from a work queue, a moment after the address
// itself; until then packets written for the address are dropped (Ip6InAddrErrors). Polls
// /proc/net/ipv6_route for it, so that a configured device is a working one. True once it is there.
static bool wait_local_route(const char* name, const uint8_t addr[16], int timeout_ms) {
  char want[40];
  for (int i = 0; i < 16; i++) snprintf(want + 2 * i, 3, "%02x", addr[i]);
  memcpy(want + 32, " 80 ", 5);
  for (int waited = 0; waited <= timeout_ms; waited++) {
    FILE* f = fopen("/proc/net/ipv6_route", "re");
    if (f == NULL) return true;  // no procfs: nothing we can wait for
    char line[256];
    bool found = false;
    while (!found && fgets(line, sizeof line, f) != NULL) {
      if (strncmp(line, want, 36) != 0) continue;
      char* end = line + strcspn(line, "\n");
      *end = '\0';
      char* dev = strrchr(line, ' ');
      found = dev != NULL && strcmp(dev + 1, name) == 0;
    }
    fclose(f);
    if (found) return true;
    struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};
    nanosleep(&ms, NULL);
  }
  return false;
}

// configure(name: string, address: Uint8Array(16), prefixLen: number, mtu: number) → ready: boolean
// (false: the kernel had not installed the address's local route after LOCAL_ROUTE_WAIT_MS)
static napi_value tun_configure(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ];
  uint8_t* addr = NULL;
  size_t addr_len = 0;
  uint32_t prefix = 0, mtu = 0;
  if (argc < 4 || !get_ifname(env, argv[0], name) || !get_bytes(env, argv[1], &addr, &addr_len) || addr_len != 16 ||
      napi_get_value_uint32(env, argv[2], &prefix) != napi_ok || prefix > 128 ||
      napi_get_value_uint32(env, argv[3], &mtu) != napi_ok)
    return throw_type(env, "configure(name, address16, prefixLen, mtu): bad arguments");

  int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return throw_errno(env, "socket AF_INET6", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, IFNAMSIZ);
  const char* step = NULL;
  int e = 0;
  if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
    step = "ioctl SIOCGIFINDEX";
    goto fail;
  }
  int ifindex = ifr.ifr_ifindex;
  ifr.ifr_mtu = (int)mtu;
  if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
    step = "ioctl SIOCSIFMTU";
    goto fail;
  }
  // EEXIST cannot happen with NLM_F_REPLACE; any other error is reported with its errno.
  e = add_address_nodad(ifindex, addr, prefix);
  if (e != 0) {
    close(s);
    return throw_errno(env, "netlink RTM_NEWADDR", e);
  }
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, IFNAMSIZ);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
    step = "ioctl SIOCGIFFLAGS";
    goto fail;
  }
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
    step = "ioctl SIOCSIFFLAGS";
    goto fail;
  }
  close(s);
  napi_value ready;
  CHECK(napi_get_boolean(env, wait_local_route(name, addr, LOCAL_ROUTE_WAIT_MS), &ready));
  return ready;
fail:
  e = errno;
  close(s);
  return throw_errno(env, step, e);
}

// writeDirect(fd, packet: Uint8Array) → bytes written, or -errno (no throw: the hot path stays cheap).
static napi_value tun_write_direct(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  uint8_t* data = NULL;
  size_t len = 0;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || !get_bytes(env, argv[1], &data, &len))
    return throw_type(env, "writeDirect(fd, packet): bad arguments");
  ssize_t n;
  do n = write(fd, data, len);
  while (n < 0 && errno == EINTR);
  napi_value r;
  CHECK(napi_create_int32(env, n < 0 ? -errno : (int32_t)n, &r));
  return r;
}

// closeFd(fd) → undefined. Closing the last fd of a non-persistent TUN device deletes the interface.
static napi_value tun_close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) return throw_type(env, "closeFd(fd)");
  if (fd >= 0 && close(fd) < 0 && errno != EINTR) return throw_errno(env, "close", errno);
  return NULL;
}

// ---------------------------------------------------------------------------------------------------
// Reader thread

typedef struct {
  uint8_t* slab;  // packets back to back
  uint32_t count;
  uint32_t used;  // bytes of slab in use
  uint32_t lengths[READ_BATCH_PACKETS];
  int error;  // non-zero: a fatal read error (errno) instead of packets
} batch_t;

typedef struct {
  int fd;
  int stop_fd;  // eventfd: written once to stop the thread
  pthread_t thread;
  bool thread_started;
  napi_threadsafe_function tsfn;
  atomic_bool stopping;
  napi_env env;
  bool stopped;
} reader_t;

static void reader_stop(reader_t* r);

static void batch_free(batch_t* b) {
  if (b == NULL) return;
  free(b->slab);
  free(b);
}

static batch_t* batch_new(void) {
  batch_t* b = calloc(1, sizeof *b);
  if (b == NULL) return NULL;
  b->slab = malloc(READ_SLAB_BYTES);
  if (b->slab == NULL) {
    free(b);
    return NULL;
  }
  return b;
}

// Runs on the JS thread: callback(arrayBuffer, lengths: Uint32Array, count) or callback(null, null, -errno).
static void reader_call_js(napi_env env, napi_value js_cb, void* context, void* data) {
  (void)context;
  batch_t* b = data;
  if (env == NULL || js_cb == NULL) {  // the function is being torn down; just free
    batch_free(b);
    return;
  }
  napi_value argv[3], undef;
  napi_get_undefined(env, &undef);
  if (b->error != 0) {
    napi_get_null(env, &argv[0]);
    napi_get_null(env, &argv[1]);
    napi_create_int32(env, -b->error, &argv[2]);
  } else {
    void* ab_data = NULL;
    napi_value lengths_ab;
    void* lengths_data = NULL;
    if (napi_create_arraybuffer(env, b->used, &ab_data, &argv[0]) != napi_ok ||
        napi_create_arraybuffer(env, b->count * 4, &lengths_data, &lengths_ab) != napi_ok) {
      batch_free(b);
      return;
    }
    memcpy(ab_data, b->slab, b->used);
    memcpy(lengths_data, b->lengths, b->count * 4);
    napi_create_typedarray(env, napi_uint32_array, b->count, lengths_ab, 0, &argv[1]);
    napi_create_uint32(env, b->count, &argv[2]);
  }
  batch_free(b);
  napi_call_function(env, undef, js_cb, 3, argv, NULL);
}

static void* reader_main(void* arg) {
  reader_t* r = arg;
  // Named, so top -H and /proc/<pid>/task show where the TUN's CPU time goes.
  pthread_setname_np(pthread_self(), "hypha-tun-read");
  struct pollfd fds[2] = {{.fd = r->fd, .events = POLLIN}, {.fd = r->stop_fd, .events = POLLIN}};
  batch_t* b = NULL;
  while (!atomic_load(&r->stopping)) {
    int pr = poll(fds, 2, -1);
    if (pr < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    if (b == NULL && (b = batch_new()) == NULL) break;
    int fatal = 0;
    while (b->count < READ_BATCH_PACKETS && READ_SLAB_BYTES - b->used >= READ_MAX_PACKET_BYTES) {
      ssize_t n = read(r->fd, b->slab + b->used, READ_MAX_PACKET_BYTES);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) fatal = errno;
        break;
      }
      if (n == 0) {
        fatal = EBADFD;
        break;
      }
      b->lengths[b->count++] = (uint32_t)n;
      b->used += (uint32_t)n;
    }
    if (b->count > 0) {
      if (napi_call_threadsafe_function(r->tsfn, b, napi_tsfn_blocking) != napi_ok) break;  // closing
      b = NULL;
    }
    if (fatal != 0 && !atomic_load(&r->stopping)) {
      if (b == NULL && (b = batch_new()) == NULL) break;
      b->error = fatal;
      if (napi_call_threadsafe_function(r->tsfn, b, napi_tsfn_blocking) == napi_ok) b = NULL;
      break;
    }
  }
  batch_free(b);
  return NULL;
}

static void reader_cleanup_hook(void* arg);

// The handle was collected: stop the thread if close() never did (cleanup hooks run before this at exit).
static void reader_finalize(napi_env env, void* data, void* hint) {
  (void)hint;
  reader_t* r = data;
  if (!r->stopped) {
    napi_remove_env_cleanup_hook(env, reader_cleanup_hook, r);
    reader_stop(r);
  }
  free(r);
}

static void reader_stop(reader_t* r) {
  if (r->stopped) return;
  r->stopped = true;
  atomic_store(&r->stopping, true);
  uint64_t one = 1;
  ssize_t ignored = write(r->stop_fd, &one, sizeof one);
  (void)ignored;
  // Abort first: a reader blocked on a full queue gets napi_closing instead of waiting for this thread.
  napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
  if (r->thread_started) pthread_join(r->thread, NULL);
  close(r->stop_fd);
}

// Registered after the threadsafe function, so it runs before Node tears that function down at exit
// (cleanup hooks run last-in, first-out): the thread is joined while the function is still valid.
static void reader_cleanup_hook(void* arg) {
  reader_stop(arg);
}

// startReader(fd (non-blocking), callback) → handle. The handle keeps the thread; stopReader(handle) ends it.
static napi_value tun_start_reader(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  napi_valuetype t;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_typeof(env, argv[1], &t) != napi_ok ||
      t != napi_function)
    return throw_type(env, "startReader(fd, callback)");
  reader_t* r = calloc(1, sizeof *r);
  if (r == NULL) return throw_errno(env, "calloc", ENOMEM);
  r->fd = fd;
  r->env = env;
  atomic_init(&r->stopping, false);
  r->stop_fd = eventfd(0, EFD_CLOEXEC);
  if (r->stop_fd < 0) {
    int e = errno;
    free(r);
    return throw_errno(env, "eventfd", e);
  }
  napi_value name;
  napi_create_string_utf8(env, "hypha-tun-reader", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, READ_QUEUE_BATCHES, 1, NULL, NULL, NULL, reader_call_js,
                                      &r->tsfn) != napi_ok) {
    close(r->stop_fd);
    free(r);
    return throw_last(env);
  }
  // The device does not keep the process alive by itself (like our timers); sockets do.
  napi_unref_threadsafe_function(env, r->tsfn);
  int e = pthread_create(&r->thread, NULL, reader_main, r);
  if (e != 0) {
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    close(r->stop_fd);
    free(r);
    return throw_errno(env, "pthread_create", e);
  }
  r->thread_started = true;
  napi_add_env_cleanup_hook(env, reader_cleanup_hook, r);
  napi_value handle;
  CHECK(napi_create_external(env, r, reader_finalize, NULL, &handle));
  return handle;
}

static napi_value tun_stop_reader(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  reader_t* r = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void**)&r) != napi_ok || r == NULL)
    return throw_type(env, "stopReader(handle)");
  if (!r->stopped) {
    napi_remove_env_cleanup_hook(env, reader_cleanup_hook, r);
    reader_stop(r);
  }
  return NULL;
}

// ---------------------------------------------------------------------------------------------------
// Writer thread: single producer (the JS thread) / single consumer ring of fixed-size slots.

typedef struct {
  int fd;
  int wake_fd;  // eventfd: the producer signals it only when the writer said it would sleep
  uint32_t slots;
  uint32_t slot_bytes;
  uint8_t* data;
  uint32_t* lengths;
  _Atomic uint64_t head;  // next slot to fill (producer)
  _Atomic uint64_t tail;  // next slot to write (consumer)
  atomic_bool sleeping;
  atomic_bool stopping;
  _Atomic uint64_t written, errors;
  _Atomic int last_error;
  pthread_t thread;
  bool thread_started;
  bool stopped;
} writer_t;

static void* writer_main(void* arg) {
  writer_t* w = arg;
  pthread_setname_np(pthread_self(), "hypha-tun-write");
  for (;;) {
    uint64_t tail = atomic_load_explicit(&w->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&w->head, memory_order_acquire);
    if (tail == head) {
      if (atomic_load(&w->stopping)) break;
      atomic_store(&w->sleeping, true);
      // Re-check after announcing sleep, so a packet published in between is not stranded.
      if (atomic_load(&w->head) != tail || atomic_load(&w->stopping)) {
        atomic_store(&w->sleeping, false);
        continue;
      }
      uint64_t v;
      ssize_t ignored = read(w->wake_fd, &v, sizeof v);
      (void)ignored;
      atomic_store(&w->sleeping, false);
      continue;
    }
    while (tail != head) {
      uint32_t i = (uint32_t)(tail % w->slots);
      ssize_t n;
      do n = write(w->fd, w->data + (size_t)i * w->slot_bytes, w->lengths[i]);
      while (n < 0 && errno == EINTR);
      if (n < 0) {
        atomic_fetch_add(&w->errors, 1);
        atomic_store(&w->last_error, errno);
      } else {
        atomic_fetch_add_explicit(&w->written, 1, memory_order_relaxed);
      }
      tail++;
      atomic_store_explicit(&w->tail, tail, memory_order_release);
    }
  }
  return NULL;
}

static void writer_stop(writer_t* w) {
  if (w->stopped) return;
  w->stopped = true;
  atomic_store(&w->stopping, true);
  uint64_t one = 1;
  ssize_t ignored = write(w->wake_fd, &one, sizeof one);
  (void)ignored;
  if (w->thread_started) pthread_join(w->thread, NULL);
}

static void writer_cleanup_hook(void* arg);

static void writer_finalize(napi_env env, void* data, void* hint) {
  (void)hint;
  writer_t* w = data;
  if (!w->stopped) {
    napi_remove_env_cleanup_hook(env, writer_cleanup_hook, w);
    writer_stop(w);
  }
  close(w->wake_fd);
  free(w->data);
  free(w->lengths);
  free(w);
}

static void writer_cleanup_hook(void* arg) {
  writer_stop(arg);
}

// startWriter(fd, slots, slotBytes) → handle
static napi_value tun_start_writer(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  uint32_t slots = 0, slot_bytes = 0;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &slots) != napi_ok || napi_get_value_uint32(env, argv[2], &slot_bytes) != napi_ok ||
      slots == 0 || slots > 65536 || slot_bytes == 0 || slot_bytes > 65536)
    return throw_type(env, "startWriter(fd, slots 1..65536, slotBytes 1..65536)");
  writer_t* w = calloc(1, sizeof *w);
  if (w == NULL) return throw_errno(env, "calloc", ENOMEM);
  w->fd = fd;
  w->slots = slots;
  w->slot_bytes = slot_bytes;
  w->data = malloc((size_t)slots * slot_bytes);
  w->lengths = calloc(slots, sizeof *w->lengths);
  w->wake_fd = eventfd(0, EFD_CLOEXEC);
  if (w->data == NULL || w->lengths == NULL || w->wake_fd < 0) {
    int e = w->wake_fd < 0 ? errno : ENOMEM;
    if (w->wake_fd >= 0) close(w->wake_fd);
    free(w->data);
    free(w->lengths);
    free(w);
    return throw_errno(env, "startWriter", e);
  }
  int e = pthread_create(&w->thread, NULL, writer_main, w);
  if (e != 0) {
    close(w->wake_fd);
    free(w->data);
    free(w->lengths);
    free(w);
    return throw_errno(env, "pthread_create", e);
  }
  w->thread_started = true;
  napi_add_env_cleanup_hook(env, writer_cleanup_hook, w);
  napi_value handle;
  CHECK(napi_create_external(env, w, writer_finalize, NULL, &handle));
  return handle;
}

static void writer_wake(writer_t* w) {
  if (atomic_load(&w->sleeping)) {
    uint64_t one = 1;
    ssize_t ignored = write(w->wake_fd, &one, sizeof one);
    (void)ignored;
  }
}

// enqueue(handle, packet, defer?) → true if queued, false if the ring is full or the packet exceeds a slot.
// With `defer` the writer thread is not woken: the caller queues a burst and then calls kick(handle) once, so
// a burst costs one eventfd write (a syscall and a thread wakeup) instead of one per packet.
static napi_value tun_enqueue(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  writer_t* w = NULL;
  uint8_t* data = NULL;
  size_t len = 0;
  if (argc < 2 || napi_get_value_external(env, argv[0], (void**)&w) != napi_ok || w == NULL ||
      !get_bytes(env, argv[1], &data, &len))
    return throw_type(env, "enqueue(handle, packet, defer?)");
  bool defer = false;
  if (argc >= 3) napi_get_value_bool(env, argv[2], &defer);
  bool queued = false;
  uint64_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
  uint64_t tail = atomic_load_explicit(&w->tail, memory_order_acquire);
  if (!w->stopped && len <= w->slot_bytes && head - tail < w->slots) {
    uint32_t i = (uint32_t)(head % w->slots);
    memcpy(w->data + (size_t)i * w->slot_bytes, data, len);
    w->lengths[i] = (uint32_t)len;
    atomic_store_explicit(&w->head, head + 1, memory_order_release);
    queued = true;
    if (!defer) writer_wake(w);
  }
  napi_value r;
  CHECK(napi_get_boolean(env, queued, &r));
  return r;
}

// kick(handle): wakes the writer thread if it sleeps (after enqueue(..., true)).
static napi_value tun_kick(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  writer_t* w = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void**)&w) != napi_ok || w == NULL) return throw_type(env, "kick(handle)");
  if (!w->stopped) writer_wake(w);
  return NULL;
}

// writerStats(handle) → [queued, written, errors, lastErrno]
static napi_value tun_writer_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  writer_t* w = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void**)&w) != napi_ok || w == NULL)
    return throw_type(env, "writerStats(handle)");
  napi_value arr, v;
  CHECK(napi_create_array_with_length(env, 4, &arr));
  double vals[4] = {(double)(atomic_load(&w->head) - atomic_load(&w->tail)), (double)atomic_load(&w->written),
                    (double)atomic_load(&w->errors), (double)atomic_load(&w->last_error)};
  for (uint32_t i = 0; i < 4; i++) {
    napi_create_double(env, vals[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

// stopWriter(handle): writes what is queued, then ends the thread.
static napi_value tun_stop_writer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  writer_t* w = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void**)&w) != napi_ok || w == NULL)
    return throw_type(env, "stopWriter(handle)");
  if (!w->stopped) {
    napi_remove_env_cleanup_hook(env, writer_cleanup_hook, w);
    writer_stop(w);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, tun_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"configure", NULL, tun_configure, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeDirect", NULL, tun_write_direct, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeFd", NULL, tun_close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"startReader", NULL, tun_start_reader, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stopReader", NULL, tun_stop_reader, NULL, NULL, NULL, napi_enumerable, NULL},
      {"startWriter", NULL, tun_start_writer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"enqueue", NULL, tun_enqueue, NULL, NULL, NULL, napi_enumerable, NULL},
      {"kick", NULL, tun_kick, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writerStats", NULL, tun_writer_stats, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stopWriter", NULL, tun_stop_writer, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE_INIT() {
  return init(env, exports);
}
