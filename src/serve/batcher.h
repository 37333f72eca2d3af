/* The queue between the HTTP threads and the one worker thread that owns
 * the models. A request's inputs are a job; the worker takes inputs of the
 * same kind from the jobs in arrival order, up to max_batch of them, waiting
 * at most max_delay for more after the oldest arrived, runs them as one
 * batch and hands each answer back to its job. Inputs from many requests
 * thus share forward passes, and one request's inputs may span batches. */
#ifndef ELANG_SERVE_BATCHER_H
#define ELANG_SERVE_BATCHER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "serve/engine.h"
#include "serve/metrics.h"

typedef struct serve_job serve_job;
struct serve_job {
    task_key key;
    const elang_text *texts;      /* [n], borrowed until the job is released */
    size_t n;
    task_result *results;         /* [n], zeroed by the submitter; answers land here */
    void (*release)(serve_job *); /* frees the job when the worker holds it last */
    /* Below: the batcher's, under its lock. */
    size_t taken, answered;       /* inputs handed to the worker, and answered */
    int status;                   /* 0, or the HTTP status of its failure */
    char why[sizeof ((elang_error *)0)->message + 32]; /* the failure's message */
    double enqueued;              /* clock_seconds() at submission */
    int holders;                  /* the submitter, and the worker while it has inputs of it */
    bool queued;
    pthread_cond_t done;
    serve_job *next;
};

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t work;          /* a job arrived, or stop was asked */
    serve_job *head, *tail;
    size_t depth;                 /* inputs queued and not taken */
    size_t max_batch, max_queue;
    double max_delay;             /* seconds */
    bool stopping, started;
    pthread_t thread;
    engine *engine;
    serve_metrics *metrics;
    /* The batch in hand, sized for max_batch once: texts and seeds as the
     * engine takes them, whose input each is, and its answer or failure. */
    elang_text *texts;
    size_t *items, *slots, *pos;
    serve_job **owners;
    task_result *results, *scratch;
    int *failed;                  /* HTTP status, 0 when answered */
    char (*messages)[sizeof ((serve_job *)0)->why];
} batcher;

/* Sets up the queue and starts the worker. */
elang_status batcher_start(batcher *b, engine *e, serve_metrics *m, size_t max_batch, size_t max_queue,
                           double max_delay, elang_error *err);

/* Prepares a job of n inputs for submission (its condition variable). */
bool serve_job_init(serve_job *job, task_key key, const elang_text *texts, size_t n, task_result *results,
                    void (*release)(serve_job *));
void serve_job_destroy(serve_job *job);

/* Queues the job: 0, or 503 when the queue lacks room for its inputs or the
 * batcher is stopping (the job is then not queued). */
int batcher_submit(batcher *b, serve_job *job);

/* Waits until every input of the job is answered or the job failed (true),
 * or until `deadline` in clock_seconds() (false). */
bool batcher_wait(batcher *b, serve_job *job, double deadline);

/* The submitter lets go: inputs not yet taken are withdrawn. True when the
 * caller must release the job now; false when the worker still runs some of
 * its inputs and will call job->release after. */
bool batcher_drop(batcher *b, serve_job *job);

/* Answers everything queued, then stops the worker; later submissions get
 * 503. Frees what batcher_start made. */
void batcher_stop(batcher *b);

#endif
