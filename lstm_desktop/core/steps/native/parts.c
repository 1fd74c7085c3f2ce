/* A batch's parts run at once on persistent threads, in one call from Python: the calling thread
 * trains part 0, the pool's workers the others (network.c's net_part each), then the parts'
 * gradients and (loss, correct) are added here in a fixed order, so the result is deterministic.
 *
 * Why in C: handing the parts to Python threads and back cost ~0.3-0.8 ms a batch (GIL hand-offs,
 * futures), a core idle for 5-8% of a plain-model batch on two cores. Workers spin briefly after a
 * batch (the next one usually comes within that time), then sleep on a condition variable.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

void net_part(const int* dims, float n, void* const* p);
enum { DIM_STRIDE = 13, SPIN = 2000, MAX_WORKERS = 63 };  /* SPIN: ~50 us of pause */

typedef struct Pool Pool;
typedef struct { Pool* pool; int index; pthread_t thread; } Worker;

struct Pool {
    int workers;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    atomic_long generation;
    atomic_int pending;
    atomic_int stop;
    int parts;
    const int* dims;
    float n;
    void* const* const* tables;
    Worker worker[MAX_WORKERS];
};

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void* work(void* arg) {
    Worker* me = arg;
    Pool* p = me->pool;
    long seen = 0;
    for (;;) {
        long g = atomic_load(&p->generation);
        for (int i = 0; i < SPIN && g == seen && !atomic_load(&p->stop); i++) {
            relax();
            g = atomic_load(&p->generation);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->lock);
            while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->wake, &p->lock);
            pthread_mutex_unlock(&p->lock);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = g;
        const int part = me->index + 1;
        if (part < p->parts) {
            net_part(p->dims + (size_t)part * DIM_STRIDE, p->n, p->tables[part]);
            if (atomic_fetch_sub(&p->pending, 1) == 1) {
                pthread_mutex_lock(&p->lock);
                pthread_cond_signal(&p->done);
                pthread_mutex_unlock(&p->lock);
            }
        }
    }
}

/* A pool of `workers` threads (a batch of workers + 1 parts); NULL if threads cannot be made. */
void* pool_create(int workers) {
    if (workers < 0 || workers > MAX_WORKERS) return NULL;
    Pool* p = calloc(1, sizeof(Pool));
    if (!p) return NULL;
    p->workers = 0;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 0; i < workers; i++) {
        p->worker[i].pool = p;
        p->worker[i].index = i;
        if (pthread_create(&p->worker[i].thread, NULL, work, &p->worker[i]) != 0) break;
        p->workers++;
    }
    return p;
}

void pool_destroy(void* handle) {
    Pool* p = handle;
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->workers; i++) pthread_join(p->worker[i].thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* Trains `parts` parts (dims: parts x DIM_STRIDE ints; tables: each part's net_part table), then
 * sum = flats[0] + flats[1] + ... (count floats each) and result = the parts' results added, in
 * order. results[i] is part i's [2] (loss / n, correct). Returns 0, or -1 with too few workers. */
int pool_run(void* handle, int parts, const int* dims, float n, void* const* const* tables,
             float* const* flats, long long count, float* sum, float* const* results, float* result) {
    Pool* p = handle;
    if (!p || parts < 1 || parts > p->workers + 1) return -1;
    if (parts > 1) {
        pthread_mutex_lock(&p->lock);
        p->parts = parts;
        p->dims = dims;
        p->n = n;
        p->tables = tables;
        atomic_store(&p->pending, parts - 1);
        atomic_fetch_add(&p->generation, 1);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    net_part(dims, n, tables[0]);
    if (parts > 1) {
        for (int i = 0; i < SPIN && atomic_load(&p->pending) > 0; i++) relax();
        pthread_mutex_lock(&p->lock);
        while (atomic_load(&p->pending) > 0) pthread_cond_wait(&p->done, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
    memcpy(sum, flats[0], sizeof(float) * (size_t)count);
    result[0] = results[0][0];
    result[1] = results[0][1];
    for (int i = 1; i < parts; i++) {
        const float* restrict f = flats[i];
        for (long long k = 0; k < count; k++) sum[k] += f[k];
        result[0] += results[i][0];
        result[1] += results[i][1];
    }
    return 0;
}
