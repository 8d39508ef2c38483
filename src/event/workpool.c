/*
 * Thread pool with loop-thread completions; see workpool.h. Completed jobs
 * are collected on a list and the loop is woken through an eventfd, so a
 * burst of completions costs one wakeup.
 */
#include "event/workpool.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct workpool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct workpool_job *queue_head, *queue_tail;   /* waiting to run */
    struct workpool_job *done_head, *done_tail;     /* waiting for done() */
    size_t pending;                                 /* loop thread only */
    bool stopping;
    unsigned nthreads;
    pthread_t *threads;
    int notify_fd;
    struct event *notify_ev;
    char name[16];
};

static void append(struct workpool_job **head, struct workpool_job **tail,
                   struct workpool_job *job)
{
    job->next = NULL;
    if (*tail)
        (*tail)->next = job;
    else
        *head = job;
    *tail = job;
}

static void *worker_main(void *arg)
{
    struct workpool *pool = arg;
    pthread_setname_np(pthread_self(), pool->name);
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->queue_head == NULL && !pool->stopping)
            pthread_cond_wait(&pool->wake, &pool->lock);
        struct workpool_job *job = pool->queue_head;
        if (job == NULL)
            break;                      /* stopping and drained */
        pool->queue_head = job->next;
        if (pool->queue_head == NULL)
            pool->queue_tail = NULL;
        pthread_mutex_unlock(&pool->lock);

        job->work(job);

        pthread_mutex_lock(&pool->lock);
        bool was_empty = pool->done_head == NULL;
        append(&pool->done_head, &pool->done_tail, job);
        if (was_empty) {
            uint64_t one = 1;
            (void)!write(pool->notify_fd, &one, sizeof(one));
        }
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

static void run_completions(struct workpool *pool)
{
    pthread_mutex_lock(&pool->lock);
    struct workpool_job *job = pool->done_head;
    pool->done_head = pool->done_tail = NULL;
    pthread_mutex_unlock(&pool->lock);
    while (job) {
        struct workpool_job *next = job->next;
        pool->pending--;
        if (job->done)
            job->done(job);
        job = next;
    }
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    uint64_t count;
    (void)!read(fd, &count, sizeof(count));
    run_completions(arg);
}

struct workpool *workpool_new(struct event_base *base, unsigned threads, const char *name)
{
    struct workpool *pool = xcalloc(1, sizeof(*pool));
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    snprintf(pool->name, sizeof(pool->name), "%s", name);
    pool->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (pool->notify_fd < 0)
        log_fatal("eventfd: %s", strerror(errno));
    pool->notify_ev = event_new(base, pool->notify_fd, EV_READ | EV_PERSIST, on_notify, pool);
    event_add(pool->notify_ev, NULL);
    pool->nthreads = threads ? threads : 1;
    pool->threads = xcalloc(pool->nthreads, sizeof(pthread_t));
    for (unsigned i = 0; i < pool->nthreads; i++) {
        int err = pthread_create(&pool->threads[i], NULL, worker_main, pool);
        if (err)
            log_fatal("pthread_create: %s", strerror(err));
    }
    return pool;
}

void workpool_submit(struct workpool *pool, struct workpool_job *job,
                     workpool_fn work, workpool_fn done)
{
    job->work = work;
    job->done = done;
    pool->pending++;
    pthread_mutex_lock(&pool->lock);
    append(&pool->queue_head, &pool->queue_tail, job);
    pthread_mutex_unlock(&pool->lock);
    /* After the unlock: a thread woken while the lock is still held would
     * block on it at once and need a second wakeup. A thread that wakes
     * without work (another took it) finds the queue empty and waits again. */
    pthread_cond_signal(&pool->wake);
}

size_t workpool_pending(const struct workpool *pool)
{
    return pool->pending;
}

void workpool_free(struct workpool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    run_completions(pool);
    event_free(pool->notify_ev);
    close(pool->notify_fd);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->threads);
    free(pool);
}
