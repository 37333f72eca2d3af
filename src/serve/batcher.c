#include "serve/batcher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/error.h"

static struct timespec timespec_at(double seconds) {
    struct timespec t = {.tv_sec = (time_t)seconds};
    t.tv_nsec = (long)((seconds - (double)t.tv_sec) * 1e9);
    if (t.tv_nsec >= 1000000000L) t.tv_sec++, t.tv_nsec -= 1000000000L;
    return t;
}

/* Condition variables timed on the monotonic clock, as clock_seconds() is. */
static bool cond_init(pthread_cond_t *c) {
    pthread_condattr_t a;
    if (pthread_condattr_init(&a) != 0) return false;
    const bool ok = pthread_condattr_setclock(&a, CLOCK_MONOTONIC) == 0 && pthread_cond_init(c, &a) == 0;
    pthread_condattr_destroy(&a);
    return ok;
}

bool serve_job_init(serve_job *job, task_key key, const elang_text *texts, size_t n, task_result *results,
                    void (*release)(serve_job *)) {
    memset(job, 0, sizeof *job);
    job->key = key;
    job->texts = texts;
    job->n = n;
    job->results = results;
    job->release = release;
    return cond_init(&job->done);
}

void serve_job_destroy(serve_job *job) { pthread_cond_destroy(&job->done); }

static bool finished(const serve_job *j) {
    return j->answered == j->taken && (j->taken == j->n || j->status != 0);
}

static void set_depth(batcher *b, size_t depth) {
    b->depth = depth;
    atomic_store(&b->metrics->queue_depth, (int64_t)depth);
}

static void unlink_job(batcher *b, serve_job *job) {
    serve_job **p = &b->head, *prev = NULL;
    while (*p && *p != job) prev = *p, p = &(*p)->next;
    if (!*p) return;
    *p = job->next;
    if (b->tail == job) b->tail = prev;
    job->next = NULL;
    job->queued = false;
    set_depth(b, b->depth - (job->n - job->taken));
}

static size_t ready_inputs(const batcher *b, task_key key) {
    size_t n = 0;
    for (const serve_job *j = b->head; j && n < b->max_batch; j = j->next)
        if (task_key_equal(&j->key, &key)) n += j->n - j->taken;
    return n;
}

/* Takes up to max_batch inputs of the head job's kind, oldest first. */
static size_t take_batch(batcher *b) {
    const task_key key = b->head->key;
    size_t count = 0;
    for (serve_job *j = b->head, *next; j && count < b->max_batch; j = next) {
        next = j->next;
        if (!task_key_equal(&j->key, &key)) continue;
        if (j->taken == j->answered) j->holders++; /* the worker now holds inputs of it */
        while (j->taken < j->n && count < b->max_batch) {
            b->texts[count] = j->texts[j->taken];
            b->items[count] = j->taken;
            b->slots[count] = j->taken;
            b->owners[count] = j;
            b->failed[count] = 0;
            count++;
            j->taken++;
            set_depth(b, b->depth - 1);
        }
        if (j->taken == j->n) unlink_job(b, j);
    }
    return count;
}

/* Runs the batch; an input the models refuse fails alone (422) and the rest
 * run again without it, so one bad input cannot fail its neighbours'
 * requests. Any other failure fails the whole batch (500). */
static void run_batch(batcher *b, size_t n) {
    /* The live inputs are packed at the front of texts and items, in batch
     * order; pos maps them back to their places. */
    size_t live = n, *pos = b->pos;
    for (size_t i = 0; i < n; i++) pos[i] = i;
    while (live > 0) {
        elang_error err = {.item = -1};
        if (engine_run(b->engine, b->owners[0]->key, b->texts, b->items, live, b->scratch, &err) == ELANG_OK) {
            for (size_t i = 0; i < live; i++) b->results[pos[i]] = b->scratch[i];
            return;
        }
        if (err.item < 0 || (size_t)err.item >= live) {
            for (size_t i = 0; i < live; i++) {
                b->failed[pos[i]] = 500;
                snprintf(b->messages[pos[i]], sizeof b->messages[0], "%s", err.message);
            }
            return;
        }
        const size_t bad = (size_t)err.item;
        b->failed[pos[bad]] = 422;
        snprintf(b->messages[pos[bad]], sizeof b->messages[0], "input %zu: %s", b->items[bad], err.message);
        for (size_t i = bad; i + 1 < live; i++) {
            pos[i] = pos[i + 1];
            b->texts[i] = b->texts[i + 1];
            b->items[i] = b->items[i + 1];
        }
        live--;
    }
}

/* Hands the answers to their jobs; wakes the finished ones. */
static void hand_out(batcher *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        serve_job *j = b->owners[i];
        if (b->failed[i]) {
            if (!j->status) {
                j->status = b->failed[i];
                snprintf(j->why, sizeof j->why, "%s", b->messages[i]);
            }
            memset(&b->results[i], 0, sizeof b->results[i]);
            if (j->queued) unlink_job(b, j); /* its other inputs would be answered for nothing */
        } else {
            j->results[b->slots[i]] = b->results[i];
        }
        j->answered++;
        const bool last_of_job = i + 1 == n || b->owners[i + 1] != j;
        if (!last_of_job) continue;
        if (finished(j)) pthread_cond_signal(&j->done);
        if (j->answered == j->taken && --j->holders == 0) j->release(j);
    }
}

static void *worker(void *arg) {
    batcher *b = arg;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->head && !b->stopping) pthread_cond_wait(&b->work, &b->lock);
        if (!b->head) break;
        /* Micro-batching: wait for a full batch, but not past the oldest
         * input's delay; stopping runs what is there at once. */
        while (b->head && !b->stopping && ready_inputs(b, b->head->key) < b->max_batch) {
            const double deadline = b->head->enqueued + b->max_delay;
            if (clock_seconds() >= deadline) break;
            const struct timespec t = timespec_at(deadline);
            pthread_cond_timedwait(&b->work, &b->lock, &t);
        }
        if (!b->head) continue;
        const size_t n = take_batch(b);
        pthread_mutex_unlock(&b->lock);
        metrics_batch(b->metrics, n);
        run_batch(b, n);
        pthread_mutex_lock(&b->lock);
        hand_out(b, n);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

static void free_arrays(batcher *b) {
    free(b->texts), free(b->items), free(b->slots), free(b->pos), free(b->owners), free(b->results);
    free(b->scratch), free(b->failed), free(b->messages);
}

elang_status batcher_start(batcher *b, engine *e, serve_metrics *m, size_t max_batch, size_t max_queue,
                           double max_delay, elang_error *err) {
    memset(b, 0, sizeof *b);
    b->engine = e, b->metrics = m;
    b->max_batch = max_batch, b->max_queue = max_queue, b->max_delay = max_delay;
    b->texts = calloc(max_batch, sizeof *b->texts);
    b->items = calloc(max_batch, sizeof *b->items);
    b->slots = calloc(max_batch, sizeof *b->slots);
    b->pos = calloc(max_batch, sizeof *b->pos);
    b->scratch = calloc(max_batch, sizeof *b->scratch);
    b->owners = calloc(max_batch, sizeof *b->owners);
    b->results = calloc(max_batch, sizeof *b->results);
    b->failed = calloc(max_batch, sizeof *b->failed);
    b->messages = calloc(max_batch, sizeof *b->messages);
    if (!b->texts || !b->items || !b->slots || !b->pos || !b->owners || !b->results || !b->scratch || !b->failed ||
        !b->messages) {
        free_arrays(b);
        return elang_fail(err, ELANG_ERR_NOMEM, "out of memory for batches of %zu inputs", max_batch);
    }
    pthread_mutex_init(&b->lock, NULL);
    int rc = cond_init(&b->work) ? pthread_create(&b->thread, NULL, worker, b) : ENOMEM;
    if (rc != 0) {
        free_arrays(b);
        return elang_fail(err, ELANG_ERR_NOMEM, "cannot start the worker thread: %s", strerror(rc));
    }
    b->started = true;
    return ELANG_OK;
}

int batcher_submit(batcher *b, serve_job *job) {
    pthread_mutex_lock(&b->lock);
    const bool room = !b->stopping && b->depth + job->n <= b->max_queue;
    if (room) {
        job->enqueued = clock_seconds();
        job->holders = 1;
        job->queued = true;
        if (b->tail) b->tail->next = job;
        else b->head = job;
        b->tail = job;
        set_depth(b, b->depth + job->n);
        pthread_cond_signal(&b->work);
    }
    pthread_mutex_unlock(&b->lock);
    return room ? 0 : 503;
}

bool batcher_wait(batcher *b, serve_job *job, double deadline) {
    pthread_mutex_lock(&b->lock);
    const struct timespec t = timespec_at(deadline);
    while (!finished(job) && pthread_cond_timedwait(&job->done, &b->lock, &t) != ETIMEDOUT) {
    }
    const bool done = finished(job);
    pthread_mutex_unlock(&b->lock);
    return done;
}

bool batcher_drop(batcher *b, serve_job *job) {
    pthread_mutex_lock(&b->lock);
    if (job->queued) unlink_job(b, job);
    const bool last = --job->holders == 0;
    pthread_mutex_unlock(&b->lock);
    return last;
}

void batcher_stop(batcher *b) {
    if (!b->started) return;
    pthread_mutex_lock(&b->lock);
    b->stopping = true;
    pthread_cond_signal(&b->work);
    pthread_mutex_unlock(&b->lock);
    pthread_join(b->thread, NULL);
    pthread_cond_destroy(&b->work);
    pthread_mutex_destroy(&b->lock);
    free_arrays(b);
    b->started = false;
}
