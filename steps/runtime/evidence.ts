import { randomBytes } from "node:crypto";
import { describeError } from "../core/errors.js";
import type { Kube } from "../core/kube.js";
import type { Logger } from "../core/log.js";
import { egress, type Redactor } from "../core/redact.js";

/** Where the step runs, as Argo tells the pod (see the WorkflowTemplate's env). */
export interface WorkflowRef {
  namespace: string;
  workflowName: string;
  workflowUid?: string | undefined;
  cronWorkflowName?: string | undefined;
  podName?: string | undefined;
}

export function workflowRefFromEnv(env: NodeJS.ProcessEnv, namespace: string): WorkflowRef | undefined {
  const workflowName = env.RESEED_WORKFLOW_NAME;
  if (!workflowName) return undefined;
  return {
    namespace,
    workflowName,
    workflowUid: env.RESEED_WORKFLOW_UID,
    cronWorkflowName: env.RESEED_CRONWORKFLOW || undefined,
    podName: env.HOSTNAME,
  };
}

const MAX_NOTE = 1024; // the API server rejects longer notes

/**
 * events.k8s.io wants MicroTime (six fraction digits); the client would send a Date with
 * three and be refused, so the string goes through as is.
 */
const uniqueSuffix = () => `${Date.now().toString(16)}${randomBytes(4).toString("hex")}`;

export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * A Kubernetes Event on the Workflow (and, as `related`, its CronWorkflow): it shows in
 * `kubectl describe`, in Argo CD and in event exporters, after the pod is gone (C4).
 * Evidence is best effort: a step never fails because its event could not be written.
 */
export async function emitEvent(
  kube: Kube,
  ref: WorkflowRef,
  e: { phase: string; unit: string; ok: boolean; reason: string; note: string },
  redactor: Redactor,
  log: Logger,
): Promise<void> {
  try {
    await kube.events.createNamespacedEvent({
      namespace: ref.namespace,
      body: {
        // Named like the API server's own events (<object>.<unique hex>); this API validates
        // a generateName prefix as a whole name, so a prefix ending in "." is refused.
        metadata: {
          name: `${ref.workflowName}.${uniqueSuffix()}`,
          namespace: ref.namespace,
          labels: { "reseed.dev/unit": e.unit },
        },
        eventTime: microTime(new Date()) as never,
        type: e.ok ? "Normal" : "Warning",
        reason: e.reason,
        action: e.phase,
        // Masked before it is cut to the API server's limit, never the other way round.
        note: egress(redactor, e.note, MAX_NOTE),
        reportingController: "reseed.dev/step",
        reportingInstance: (ref.podName ?? "reseed").slice(0, 128),
        regarding: {
          apiVersion: "argoproj.io/v1alpha1",
          kind: "Workflow",
          name: ref.workflowName,
          namespace: ref.namespace,
          ...(ref.workflowUid ? { uid: ref.workflowUid } : {}),
        },
        ...(ref.cronWorkflowName
          ? {
              related: {
                apiVersion: "argoproj.io/v1alpha1",
                kind: "CronWorkflow",
                name: ref.cronWorkflowName,
                namespace: ref.namespace,
              },
            }
          : {}),
      },
    });
  } catch (err) {
    log.warn({ event: "evidence.event-failed", reason: describeError(err) }, "could not write the Kubernetes Event");
  }
}
