// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* push_queue.c - the push client's bounded request queue
 *
 * A ring of encoded requests, oldest first. When full, putting a new request
 * evicts the oldest: while the server is away the newest windows are the ones
 * worth keeping. Not locked here: the client holds its mutex around every call.
 */
#include <errno.h>
#include <stdlib.h>

#include "push_internal.h"

void push_req_free(struct push_req *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->url);
	free(r);
}

int push_queue_init(struct push_queue *q, size_t cap)
{
	q->head = 0;
	q->n = 0;
	q->cap = cap ? cap : 1;
	q->slots = calloc(q->cap, sizeof(*q->slots));
	return q->slots ? 0 : -ENOMEM;
}

struct push_req *push_queue_put(struct push_queue *q, struct push_req *r)
{
	struct push_req *evicted = NULL;

	if (q->n == q->cap)
		evicted = push_queue_take(q);
	q->slots[(q->head + q->n) % q->cap] = r;
	q->n++;
	return evicted;
}

struct push_req *push_queue_take(struct push_queue *q)
{
	struct push_req *r;

	if (!q->n)
		return NULL;
	r = q->slots[q->head];
	q->slots[q->head] = NULL;
	q->head = (q->head + 1) % q->cap;
	q->n--;
	return r;
}

void push_queue_fini(struct push_queue *q)
{
	if (!q->slots)
		return;
	while (q->n)
		push_req_free(push_queue_take(q));
	free(q->slots);
	q->slots = NULL;
	q->cap = 0;
}
