/*
 * flowbill native UDP reader: one pthread per socket reads datagrams with recvmmsg (64 at a time)
 * straight into a SharedArrayBuffer ring that a JS thread drains (edge/receive/native-udp-reader.ts).
 * Why: Node's dgram path costs ~14 us of CPU per datagram (a zero-filled 64 KiB buffer per recv, a
 * Buffer, an rinfo object and an event); this costs what a C collector's read costs.
 *
 * The ring layout is defined ONCE in edge/receive/datagram-ring.ts; the constants below mirror it.
 *
 * JS API (all synchronous; stop is two calls so the JS thread can keep draining while the socket
 * drains, else a full ring would deadlock the join):
 *   open({ host, port, recvBufferBytes, ring: Uint8Array over the SAB, slotPayloadBytes })
 *     -> { handle, port, recvBufferBytes, family }     (socket created, bound, thread started)
 *   requestStop(handle)   drain the socket until STOP_QUIET_MS quiet (at most STOP_MAX_DRAIN_MS), then exit
 *   stopped(handle)       the thread has exited
 *   close(handle)         join the thread (requests stop if needed), close the socket
 *   stats(handle)         { datagrams, bytes, ringFullWaits, truncated, errors }
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Mirror of edge/receive/datagram-ring.ts. */
#define RING_HEADER_BYTES 128
#define WRITE_INDEX_OFFSET 0
#define READ_INDEX_OFFSET 64
#define RECORD_HEADER_BYTES 28
#define RECORD_ALIGN 8
#define WRAP_MARKER 0xffffffffu
#define RING_GAP_BYTES 8

#define BATCH 64
#define POLL_MS 20
#define RING_FULL_SLEEP_NS 100000L
/*
 * After a partial batch, wait this long and read again instead of polling: at tens of thousands of
 * datagrams a second poll would wake for every one or two (two syscalls each); a short wait lets a
 * batch gather (the kernel buffer holds it; 200 us is nothing to a 5-minute bucket).
 */
#ifndef COALESCE_SLEEP_NS
#define COALESCE_SLEEP_NS 200000L
#endif
/* As edge/receive/udp-receiver.ts's clean stop: closing a UDP socket discards its kernel buffer. */
#define STOP_QUIET_MS 25
#define STOP_MAX_DRAIN_MS 500

typedef struct {
  int fd;
  uint8_t *ring;        /* the whole SAB: header then data */
  uint32_t capacity;    /* data area bytes */
  uint32_t slot_payload;
  uint32_t stride;      /* reserved bytes per message: header + slot payload, aligned */
  pthread_t thread;
  int thread_started;
  int joined;
  atomic_int stop_requested;
  atomic_int exited;
  atomic_uint_fast64_t datagrams, bytes, ring_full_waits, truncated, errors;
  napi_ref ring_ref;    /* keeps the SAB alive while the thread writes into it */
  napi_env env;
} reader_t;

static uint32_t align8(uint32_t n) { return (n + RECORD_ALIGN - 1) & ~(uint32_t)(RECORD_ALIGN - 1); }

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static _Atomic int32_t *index_at(reader_t *r, int offset) { return (_Atomic int32_t *)(r->ring + offset); }

/* Writes one record header; the address is normalized: IPv4-mapped IPv6 becomes family 4. */
static void put_header(uint8_t *at, uint32_t record_bytes, uint32_t payload_bytes, const struct sockaddr_storage *sa) {
  memcpy(at, &record_bytes, 4);
  memcpy(at + 4, &payload_bytes, 4);
  uint8_t family = 0;
  uint16_t port = 0;
  memset(at + 12, 0, 16);
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
    family = 4; port = ntohs(s4->sin_port);
    memcpy(at + 12, &s4->sin_addr, 4);
  } else if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
    port = ntohs(s6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) { family = 4; memcpy(at + 12, s6->sin6_addr.s6_addr + 12, 4); }
    else { family = 6; memcpy(at + 12, &s6->sin6_addr, 16); }
  }
  at[8] = family;
  at[9] = 0;
  memcpy(at + 10, &port, 2);
}

/*
 * Contiguous room for whole slots at the write index, wrapping (marker + publish 0) when the tail
 * is too short. Returns the offset to write at and sets *slots, or returns -1 when the ring is full.
 * Same rule as datagram-ring.ts ringWrite, with the slot stride as the size needed.
 */
static int64_t reserve(reader_t *r, uint32_t *w, uint32_t *slots) {
  uint32_t rd = (uint32_t)atomic_load_explicit(index_at(r, READ_INDEX_OFFSET), memory_order_acquire);
  uint32_t room;
  if (*w >= rd) {
    room = r->capacity - *w - (rd == 0 ? RING_GAP_BYTES : 0);
    if (room < r->stride) {
      if (rd < r->stride + RING_GAP_BYTES) return -1;
      uint32_t marker = WRAP_MARKER;
      memcpy(r->ring + RING_HEADER_BYTES + *w, &marker, 4);
      *w = 0;
      atomic_store_explicit(index_at(r, WRITE_INDEX_OFFSET), 0, memory_order_release);
      room = rd - RING_GAP_BYTES;
    }
  } else {
    room = rd - *w - RING_GAP_BYTES;
    if (room < r->stride) return -1;
  }
  uint32_t n = room / r->stride;
  *slots = n > BATCH ? BATCH : n;
  return *w;
}

static void *reader_main(void *arg) {
  reader_t *r = arg;
  uint8_t *data = r->ring + RING_HEADER_BYTES;
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_storage names[BATCH];
  uint32_t w = (uint32_t)atomic_load_explicit(index_at(r, WRITE_INDEX_OFFSET), memory_order_relaxed);
  int64_t stop_deadline = 0;
  int need_poll = 1;

  for (;;) {
    int stopping = atomic_load_explicit(&r->stop_requested, memory_order_acquire);
    if (stopping && stop_deadline == 0) stop_deadline = now_ms() + STOP_MAX_DRAIN_MS;
    if (stopping && now_ms() >= stop_deadline) break;
    if (need_poll) {
      struct pollfd p = { .fd = r->fd, .events = POLLIN };
      int pr = poll(&p, 1, stopping ? STOP_QUIET_MS : POLL_MS);
      if (pr == 0) { if (stopping) break; continue; }
      if (pr < 0) { if (errno != EINTR) atomic_fetch_add(&r->errors, 1); continue; }
    }
    uint32_t slots;
    int64_t at = reserve(r, &w, &slots);
    if (at < 0) {
      /* Ring full: stop reading; the kernel's socket buffer absorbs (its drops show in /proc/net/udp). */
      atomic_fetch_add_explicit(&r->ring_full_waits, 1, memory_order_relaxed);
      struct timespec ts = { 0, RING_FULL_SLEEP_NS };
      nanosleep(&ts, NULL);
      need_poll = 0;
      continue;
    }
    for (uint32_t i = 0; i < slots; i++) {
      iov[i].iov_base = data + at + (uint64_t)i * r->stride + RECORD_HEADER_BYTES;
      iov[i].iov_len = r->slot_payload;
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_name = &names[i];
      msgs[i].msg_hdr.msg_namelen = sizeof names[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int got = recvmmsg(r->fd, msgs, slots, MSG_DONTWAIT | MSG_TRUNC, NULL);
    if (got <= 0) {
      if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) atomic_fetch_add(&r->errors, 1);
      need_poll = 1; /* nothing waiting: block in poll */
      continue;
    }
    /* Compact: message i landed in slot i; records go back to back from the reserved start. */
    uint32_t pos = (uint32_t)at;
    uint64_t bytes = 0, kept = 0;
    for (int i = 0; i < got; i++) {
      uint32_t len = msgs[i].msg_len;
      if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || len > r->slot_payload) {
        atomic_fetch_add_explicit(&r->truncated, 1, memory_order_relaxed);
        continue;
      }
      uint8_t *src = data + at + (uint64_t)i * r->stride + RECORD_HEADER_BYTES;
      uint8_t *dst = data + pos + RECORD_HEADER_BYTES;
      if (dst != src) memmove(dst, src, len);
      uint32_t rec = align8(RECORD_HEADER_BYTES + len);
      put_header(data + pos, rec, len, &names[i]);
      pos += rec;
      bytes += len;
      kept++;
    }
    if (pos == r->capacity) pos = 0; /* reserve() never lets this happen while the reader is at 0 */
    w = pos;
    atomic_store_explicit(index_at(r, WRITE_INDEX_OFFSET), (int32_t)w, memory_order_release);
    atomic_fetch_add_explicit(&r->datagrams, kept, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->bytes, bytes, memory_order_relaxed);
    /* A full batch: more is likely waiting, read again at once. A partial one: let the next gather. */
    need_poll = COALESCE_SLEEP_NS == 0 && (uint32_t)got < slots;
    if (COALESCE_SLEEP_NS > 0 && (uint32_t)got < slots && !stopping) {
      struct timespec ts = { 0, COALESCE_SLEEP_NS };
      nanosleep(&ts, NULL);
    }
  }
  atomic_store_explicit(&r->exited, 1, memory_order_release);
  return NULL;
}

/* ---- N-API glue */

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "udp_batch_reader: " #call " failed"); return NULL; } } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, text, e;
  const char *name = err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : "ENATIVE";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &e);
  napi_throw(env, e);
  return NULL;
}

static int get_prop(napi_env env, napi_value obj, const char *name, napi_value *out) {
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  return napi_get_named_property(env, obj, name, out) == napi_ok;
}

static void join_and_close(reader_t *r) {
  if (r->thread_started && !r->joined) {
    atomic_store_explicit(&r->stop_requested, 1, memory_order_release);
    pthread_join(r->thread, NULL);
    r->joined = 1;
  }
  if (r->fd >= 0) { close(r->fd); r->fd = -1; }
  if (r->ring_ref) { napi_delete_reference(r->env, r->ring_ref); r->ring_ref = NULL; }
}

static void finalize_reader(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  reader_t *r = data;
  /* The handle was dropped without close(): stop the thread before its ring can go away. */
  if (r->thread_started && !r->joined) {
    atomic_store_explicit(&r->stop_requested, 1, memory_order_release);
    pthread_join(r->thread, NULL);
    r->joined = 1;
  }
  if (r->fd >= 0) close(r->fd);
  free(r);
}

static reader_t *get_reader(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok || !p) {
    napi_throw_type_error(env, NULL, "udp_batch_reader: expected a reader handle");
    return NULL;
  }
  return p;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) { napi_throw_type_error(env, NULL, "udp_batch_reader.open: expected an options object"); return NULL; }
  char host[128] = "";
  size_t hostLen = 0;
  uint32_t port = 0, rcvbuf = 0, slot_payload = 65536;
  if (!get_prop(env, argv[0], "host", &v) || napi_get_value_string_utf8(env, v, host, sizeof host, &hostLen) != napi_ok) { napi_throw_type_error(env, NULL, "udp_batch_reader.open: host must be a string"); return NULL; }
  if (!get_prop(env, argv[0], "port", &v) || napi_get_value_uint32(env, v, &port) != napi_ok || port > 65535) { napi_throw_type_error(env, NULL, "udp_batch_reader.open: port must be 0-65535"); return NULL; }
  if (get_prop(env, argv[0], "recvBufferBytes", &v)) napi_get_value_uint32(env, v, &rcvbuf);
  if (get_prop(env, argv[0], "slotPayloadBytes", &v)) napi_get_value_uint32(env, v, &slot_payload);
  napi_value ringv;
  if (!get_prop(env, argv[0], "ring", &ringv)) { napi_throw_type_error(env, NULL, "udp_batch_reader.open: ring (a Uint8Array over the ring's SharedArrayBuffer) is required"); return NULL; }
  napi_typedarray_type ttype;
  size_t tlen = 0, toff = 0;
  void *tdata = NULL;
  napi_value tbuf;
  if (napi_get_typedarray_info(env, ringv, &ttype, &tlen, &tdata, &tbuf, &toff) != napi_ok || ttype != napi_uint8_array || toff != 0) {
    napi_throw_type_error(env, NULL, "udp_batch_reader.open: ring must be a Uint8Array over the whole SharedArrayBuffer");
    return NULL;
  }
  uint32_t stride = align8(RECORD_HEADER_BYTES + slot_payload);
  if (slot_payload < 64 || tlen < RING_HEADER_BYTES + 2 * (size_t)stride + RING_GAP_BYTES || tlen > 0x7fffffff || (tlen - RING_HEADER_BYTES) % RECORD_ALIGN != 0) {
    napi_throw_range_error(env, NULL, "udp_batch_reader.open: the ring must hold at least two slots (header + slotPayloadBytes) and be a multiple of 8");
    return NULL;
  }

  /* The socket: IPv6 (dual stack, as Node binds '::') when the host has a ':', else IPv4. */
  struct sockaddr_storage ss;
  socklen_t sslen;
  memset(&ss, 0, sizeof ss);
  int v6 = strchr(host, ':') != NULL;
  if (v6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    s6->sin6_family = AF_INET6; s6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) { napi_throw_type_error(env, NULL, "udp_batch_reader.open: host is not a numeric IPv6 address"); return NULL; }
    sslen = sizeof *s6;
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    s4->sin_family = AF_INET; s4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) { napi_throw_type_error(env, NULL, "udp_batch_reader.open: host is not a numeric IPv4 address"); return NULL; }
    sslen = sizeof *s4;
  }
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (v6) { int off = 0; setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off); }
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (bind(fd, (struct sockaddr *)&ss, sslen) != 0) { int e = errno; close(fd); return throw_errno(env, "bind", e); }
  int granted = 0;
  socklen_t glen = sizeof granted;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &glen);
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &blen);
  uint16_t bport = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port : ((struct sockaddr_in *)&bound)->sin_port);

  reader_t *r = calloc(1, sizeof *r);
  if (!r) { close(fd); napi_throw_error(env, NULL, "udp_batch_reader: out of memory"); return NULL; }
  r->fd = fd; r->env = env;
  r->ring = tdata; r->capacity = (uint32_t)(tlen - RING_HEADER_BYTES);
  r->slot_payload = slot_payload; r->stride = stride;
  if (napi_create_reference(env, ringv, 1, &r->ring_ref) != napi_ok) { close(fd); free(r); napi_throw_error(env, NULL, "udp_batch_reader: cannot reference the ring"); return NULL; }
  napi_value handle;
  if (napi_create_external(env, r, finalize_reader, NULL, &handle) != napi_ok) { join_and_close(r); free(r); napi_throw_error(env, NULL, "udp_batch_reader: cannot create the handle"); return NULL; }
  int err = pthread_create(&r->thread, NULL, reader_main, r);
  if (err != 0) { join_and_close(r); return throw_errno(env, "pthread_create", err); }
  r->thread_started = 1;
  pthread_setname_np(r->thread, "udp-reader");

  napi_value out, n;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_set_named_property(env, out, "handle", handle));
  CHECK(napi_create_uint32(env, bport, &n)); CHECK(napi_set_named_property(env, out, "port", n));
  CHECK(napi_create_int32(env, granted, &n)); CHECK(napi_set_named_property(env, out, "recvBufferBytes", n));
  CHECK(napi_create_uint32(env, v6 ? 6 : 4, &n)); CHECK(napi_set_named_property(env, out, "family", n));
  return out;
}

static napi_value js_request_stop(napi_env env, napi_callback_info info) {
  reader_t *r = get_reader(env, info);
  if (!r) return NULL;
  atomic_store_explicit(&r->stop_requested, 1, memory_order_release);
  return NULL;
}

static napi_value js_stopped(napi_env env, napi_callback_info info) {
  reader_t *r = get_reader(env, info);
  if (!r) return NULL;
  napi_value b;
  napi_get_boolean(env, !r->thread_started || atomic_load_explicit(&r->exited, memory_order_acquire), &b);
  return b;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  reader_t *r = get_reader(env, info);
  if (!r) return NULL;
  join_and_close(r);
  return NULL;
}

static void set_num(napi_env env, napi_value obj, const char *name, uint64_t v) {
  napi_value n;
  napi_create_double(env, (double)v, &n);
  napi_set_named_property(env, obj, name, n);
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  reader_t *r = get_reader(env, info);
  if (!r) return NULL;
  napi_value o;
  CHECK(napi_create_object(env, &o));
  set_num(env, o, "datagrams", atomic_load(&r->datagrams));
  set_num(env, o, "bytes", atomic_load(&r->bytes));
  set_num(env, o, "ringFullWaits", atomic_load(&r->ring_full_waits));
  set_num(env, o, "truncated", atomic_load(&r->truncated));
  set_num(env, o, "errors", atomic_load(&r->errors));
  return o;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    { "open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL },
    { "requestStop", NULL, js_request_stop, NULL, NULL, NULL, napi_default, NULL },
    { "stopped", NULL, js_stopped, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
    { "stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
