/* queue.c: the simulator's event queue, a binary min-heap ordered by (time, insertion
 * sequence). The sequence makes ties deterministic: events due at the same millisecond run
 * in the order they were scheduled, never in an order that depends on memory layout. */
#include <stdlib.h>

#include "sim.h"

static int before(const struct sim_event *a, const struct sim_event *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

void queue_push(struct sim_queue *q, const struct sim_event *e)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 256;
        q->v = realloc(q->v, q->cap * sizeof *q->v);
        if (!q->v)
            abort();
    }
    size_t i = q->n++;
    q->v[i] = *e;
    q->v[i].seq = q->seq++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&q->v[i], &q->v[p]))
            break;
        struct sim_event t = q->v[i];
        q->v[i] = q->v[p];
        q->v[p] = t;
        i = p;
    }
}

int queue_pop(struct sim_queue *q, struct sim_event *e)
{
    if (q->n == 0)
        return 0;
    *e = q->v[0];
    q->v[0] = q->v[--q->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->n && before(&q->v[l], &q->v[m]))
            m = l;
        if (r < q->n && before(&q->v[r], &q->v[m]))
            m = r;
        if (m == i)
            break;
        struct sim_event t = q->v[i];
        q->v[i] = q->v[m];
        q->v[m] = t;
        i = m;
    }
    return 1;
}

void queue_free(struct sim_queue *q)
{
    free(q->v);
    q->v = NULL;
    q->n = q->cap = 0;
}
