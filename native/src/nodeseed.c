/* nodeseed.c: a --random-seed for the Node the front starts, one whose V8 string-hash secret is
 * found fast (front.c passes it on Node's command line).
 *
 * Why: Node 20.20 (the fix of CVE-2026-21717, as V8 14.1 upstream) makes each isolate's
 * string-hash secret at start-up: three 64-bit words drawn from a generator seeded by the
 * isolate's first random number, each redrawn until it is odd, has Hamming distance 32 to the
 * words before it, and passes a 12-base Miller-Rabin test, whose modular multiply is a
 * 64-step shift-and-add loop. Each composite tested costs about 50 us here, and a random seed
 * tests 62 of them on average (0 to over 200): 3 ms of Node's 20-25 ms start on average, up to
 * 11. The seed V8 draws comes from its random number generator, which --random-seed seeds.
 *
 * What this does: draws R from getrandom(2), computes the isolate's first random number from
 * it as V8 does (seed scrambled by MurmurHash3's finalizer, one xorshift128+ step) and replays
 * the secret search with fast (Montgomery) arithmetic, counting the composites V8 would test;
 * an R whose search tests at most NODESEED_LIMIT is taken, else another is drawn (about 12
 * draws, 0.1 ms here: a small factor or one modular power tells a composite; after 64 draws,
 * 1 start in 300, none is taken and Node seeds itself). Nothing is decided from this for a
 * jail: it only picks one of the seeds Node could have picked itself.
 *
 * Security (docs/JAILS.md, Security, "Node's random seed, drawn by the front"): the secret
 * stays random (R from getrandom, one of about 2^32 / 12 accepted values: 28 bits, where
 * Node's own seed has 64). --random-seed also seeds V8's other generators (Math.random, the
 * address hints of V8's own mappings) from R. R is on Node's command line, which host users
 * can read while that Node runs (unless /proc has hidepid): they learn its hash secret and heap
 * layout. The code cache (bin/run-tool.js) stays valid: V8 leaves random_seed out of the flag
 * hash it checks (a --hash-seed would not). A Node without the secret search starts as fast
 * with any seed: the only cost then is the draw. If V8 ever computes it differently, the count
 * is wrong and only the speed-up is lost; V8 still makes its own secret from R. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include "helper.h"

#ifndef NODESEED_LIMIT
#define NODESEED_LIMIT 20
#endif
#define NODESEED_DRAWS 64

/* V8's base::RandomNumberGenerator: SetSeed(seed) then NextInt64() */
static uint64_t fmix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}
static uint64_t first_random(int32_t r) {
  uint64_t s0 = fmix64((uint64_t)(int64_t)r), s1 = fmix64(~s0);
  uint64_t x = s0, y = s1;
  s0 = y;
  x ^= x << 23;
  x ^= x >> 17;
  x ^= y;
  x ^= y >> 26;
  s1 = x;
  return s0 + s1;
}

/* the secret words' generator (wyrand over rapidhash's mix) */
static uint64_t mix(uint64_t a, uint64_t b) {
  __uint128_t p = (__uint128_t)a * b;
  return (uint64_t)p ^ (uint64_t)(p >> 64);
}
static uint64_t next_word(uint64_t *s) {
  *s += 0x2d358dccaa6c78a5ull;
  return mix(*s, *s ^ 0x8bb84b93962eacc9ull);
}

/* Montgomery arithmetic modulo an odd N (R = 2^64): a few nanoseconds a product, where a
 * 128-bit remainder takes tens */
struct mont { uint64_t n, ninv, one; };
static struct mont mont_of(uint64_t n) {
  uint64_t x = n; /* n * x = 1 (mod 2^64), by Newton's iteration: 3, 6, 12, 24, 48, 96 bits */
  for (int i = 0; i < 5; i++) x *= 2 - n * x;
  struct mont m = { n, x, (0 - n) % n };
  return m;
}
/* T / R (mod N), for T < N * R: the low words of T and M*N cancel */
static uint64_t redc(const struct mont *m, __uint128_t t) {
  uint64_t q = (uint64_t)t * m->ninv;
  uint64_t th = (uint64_t)(t >> 64), mh = (uint64_t)(((__uint128_t)q * m->n) >> 64);
  return th >= mh ? th - mh : th - mh + m->n;
}
static uint64_t mmul(const struct mont *m, uint64_t a, uint64_t b) { return redc(m, (__uint128_t)a * b); }

/* a strong probable prime to base 2: V8's first base, where nearly every composite fails (one
 * that passes it and fails a later base is so rare that it does not count here) */
static int sprp2(uint64_t n) {
  struct mont m = mont_of(n);
  uint64_t d = n - 1;
  int s = 0;
  while (!(d & 1)) { d >>= 1; s++; }
  uint64_t one = m.one, minus = n - one, a = one >= n - one ? one - (n - one) : one + one, b = one;
  for (uint64_t e = d; e; e >>= 1) {
    if (e & 1) b = mmul(&m, b, a);
    a = mmul(&m, a, a);
  }
  if (b == one || b == minus) return 1;
  for (int i = 1; i < s; i++) {
    b = mmul(&m, b, b);
    if (b == minus) return 1;
    if (b == one || b == 0) return 0;
  }
  return 0;
}

/* Whether odd W has a prime factor below 50: most composites, told without a modular power
 * (W is far above 50: its bytes have four bits set each) */
static int small_factor(uint64_t w) {
  static const uint8_t p[] = { 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47 };
  for (size_t i = 0; i < sizeof p; i++) if (w % p[i] == 0) return 1;
  return 0;
}

/* Whether V8's secret search from SEED tests at most LIMIT composites. */
static int search_short(uint64_t seed, int limit) {
  uint8_t bal[70]; /* the bytes with four bits set, ascending: each byte of a word is one */
  int nb = 0;
  for (int v = 0; v < 256; v++) if (__builtin_popcount((unsigned)v) == 4) bal[nb++] = (uint8_t)v;
  uint64_t words[3];
  int tested = 0;
  for (int i = 0; i < 3; i++) {
    for (;;) {
      uint64_t w = 0;
      for (int j = 0; j < 64; j += 8) w |= (uint64_t)bal[next_word(&seed) % 70] << j;
      if (!(w & 1)) continue;
      int apart = 1;
      for (int k = 0; k < i && apart; k++) apart = __builtin_popcountll(words[k] ^ w) == 32;
      if (!apart) continue;
      if (!small_factor(w) && sprp2(w)) { words[i] = w; break; }
      if (++tested > limit) return 0;
    }
  }
  return 1;
}

/* OUT gets "--random-seed=R" for an R whose search is short; -1 when none was found. */
int node_seed(char *out, size_t n) {
  int32_t r[NODESEED_DRAWS];
  /* never waits: a kernel whose random pool is not ready yet (early boot) leaves Node to seed
   * itself */
  if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) return -1;
  for (int i = 0; i < NODESEED_DRAWS; i++) {
    if (r[i] == 0) continue; /* 0 means "no seed" to V8 */
    if (search_short(first_random(r[i]), NODESEED_LIMIT)) return snprintf(out, n, "--random-seed=%d", (int)r[i]) < (int)n ? 0 : -1;
  }
  return -1;
}
