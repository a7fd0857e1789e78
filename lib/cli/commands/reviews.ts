/**
 * Break-glass reviews (docs/cli.md "Requests and approvals"): `vend reviews` lists the uses of
 * break glass waiting for (or given) someone else's sign-off; `vend review sign-off <id>` signs
 * one off. Both are for people (`GET /v1/reviews`, `POST /v1/reviews/{id}/sign-off`).
 */
import { type Command, Option } from 'commander';
import { example, urlOption, when } from '../options';
import { table } from '../output';
import type { Runtime } from '../runtime';

/** A break-glass review as `GET /v1/reviews` answers it. */
interface Review {
  id: string;
  requestId?: string;
  entitlement?: string;
  requesterId?: string;
  status?: string;
  openedAt?: string;
  signedOffBy?: string;
  at?: string;
}

/** Registers `vend reviews` and `vend review sign-off`. */
export function register(program: Command, rt: Runtime): void {
  // reviews: break-glass uses waiting for (or given) someone else's sign-off
  example(
    program
      .command('reviews')
      .description('list break-glass reviews you may sign off (and your own)')
      .option('--json', 'print JSON')
      .addOption(new Option('--status <status>', 'open or signed-off').choices(['open', 'signed-off']))
      .addOption(urlOption()),
    'vend reviews',
    'vend reviews --status signed-off --json',
  ).action(async (o: { json?: boolean; status?: string; url?: string }) => {
    const client = await rt.client({ url: o.url, needPerson: true });
    const out = await rt.api(client, {}, () =>
      client.call<{ reviews: Review[] }>(
        'GET',
        'v1/reviews',
        undefined,
        o.status ? { status: o.status } : {},
      ),
    );
    const list = out.reviews ?? [];
    if (o.json) return rt.out(`${JSON.stringify(list, null, 2)}\n`);
    if (list.length === 0) return rt.err(`no ${o.status ?? 'open'} reviews\n`);
    rt.out(
      table(
        ['ID', 'ENTITLEMENT', 'STATUS', 'BROKE GLASS', 'OPENED', 'SIGNED OFF BY', 'AT'],
        list.map((r) => [
          r.id,
          r.entitlement,
          r.status,
          r.requesterId,
          when(r.openedAt),
          r.signedOffBy,
          when(r.at),
        ]),
      ),
    );
  });

  // review sign-off
  const review = program.command('review').description('act on a break-glass review');
  example(
    review
      .command('sign-off')
      .description('sign off someone else’s break-glass use after checking what was done')
      .argument('<id>', 'review id (the break-glass request id; see vend reviews)')
      .option('--comment <text>', 'what you checked, for the audit trail')
      .option('--json', 'print the review as JSON')
      .addOption(urlOption()),
    'vend review sign-off r-01HX… --comment "session matches INC-42"',
  ).action(async (id: string, o: { comment?: string; json?: boolean; url?: string }) => {
    const client = await rt.client({ url: o.url, needPerson: true });
    const signed = await rt.api(client, {}, () =>
      client.call<Review>(
        'POST',
        `v1/reviews/${encodeURIComponent(id)}/sign-off`,
        o.comment ? { comment: o.comment } : {},
      ),
    );
    rt.out(
      o.json
        ? `${JSON.stringify(signed, null, 2)}\n`
        : `review ${signed.id} (${signed.entitlement}): ${signed.status}${signed.signedOffBy ? ` by ${signed.signedOffBy}` : ''}\n`,
    );
  });
}
