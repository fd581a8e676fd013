// What the frontend writes against the generated types: if a change to the API document breaks
// this file, `make client-check` (a stage of `make test`) fails before the frontend does.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api";

type Job = components["schemas"]["JobOut"];
type JobPage = components["schemas"]["JobPage"];
type Problem = components["schemas"]["Problem"];

const api = createClient<paths>({ baseUrl: "http://127.0.0.1:8000" });

function describe(problem: Problem): string {
  const fields = (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`).join("; ");
  return `${problem.status} ${problem.title}${fields ? ` (${fields})` : ""}`;
}

export async function scheduleDraft(token: string, connectionId: string, text: string): Promise<Job> {
  const { data, error } = await api.POST("/v1/jobs", {
    headers: { Authorization: `Bearer ${token}`, "Idempotency-Key": crypto.randomUUID() },
    body: {
      content: text,
      targets: [{ connection_id: connectionId, platform: "sandbox" }],
      scheduled_at: "2027-01-04T09:00:00",
      time_zone: "Europe/Berlin",
      requires_approval: true,
    },
  });
  if (error) throw new Error(describe(error as Problem));
  return data;
}

export async function everyJob(token: string): Promise<Job[]> {
  const jobs: Job[] = [];
  let cursor: string | null | undefined = undefined;
  do {
    const query = { cursor, limit: 200 };
    const { data, error } = await api.GET("/v1/jobs", {
      headers: { Authorization: `Bearer ${token}` },
      params: { query },
    });
    if (error) throw new Error(describe(error as Problem));
    const page: JobPage = data;
    jobs.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return jobs;
}

// A brand's webhook receiver: the body of each delivery is typed by the document's `webhooks`.
export function onJobPublished(body: components["schemas"]["JobPublishedEvent"]): string {
  return `${body.type} ${body.data.job_id} at ${body.timestamp}`;
}
