/**
 * `oombot start` on a machine with no cluster runs the demo, so a newcomer sees oombot work at once. That
 * fallback is only for a machine with nothing configured: where any Slack setting is present (or the
 * process runs in a pod whose service account is not mounted), a missing cluster is a mistake to report,
 * never a reason to post simulated incidents into a real channel.
 */

/** Settings that mean "this is meant to talk to a real Slack". */
export const SLACK_SETTINGS = ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_CHANNEL', 'SLACK_API_URL', 'OOMBOT_ROUTES'] as const;

/** Why `start` must not fall back to the demo here, or undefined when the demo is what is wanted. */
export function demoFallbackRefusal(env: Record<string, string | undefined>): string | undefined {
  const present = SLACK_SETTINGS.filter((name) => (env[name] ?? '').trim() !== '');
  const inPod = (env.KUBERNETES_SERVICE_HOST ?? '') !== '';
  if (present.length === 0 && !inPod) return undefined;
  const because = present.length > 0 ? `${present.join(', ')} ${present.length === 1 ? 'is' : 'are'} set` : 'this process runs in a pod';
  return [
    `no cluster configured, and ${because}: not starting the demo, which would post simulated incidents.`,
    '  fix: set KUBECONFIG to a kubeconfig file, or run in-cluster with the service account token mounted',
    "       (automountServiceAccountToken must not be false for oombot's pods);",
    '       to try oombot on a simulated cluster, run `oombot demo` (npm run demo) instead.',
  ].join('\n');
}
