/**
 * The zod schema of a resolved model configuration. It is built from a zod namespace handed in, not
 * imported here, because zod costs about as much to load as Node itself and `pycage --help` must not
 * pay for it: `config.ts` loads zod only when a configuration is actually resolved.
 */
import type * as Zod from 'zod';

export function buildModelConfigSchema(z: typeof Zod) {
  return z.object({
    provider: z.enum(['groq', 'openai'], 'must be "groq" or "openai"'),
    model: z.string().trim().min(1, 'must not be empty'),
    apiKey: z.string().min(1).optional(),
    baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    timeoutMs: z.int('must be a whole number of milliseconds').positive('must be more than 0'),
    maxRetries: z.int('must be a whole number').min(0, 'must be 0 or more').max(10, 'must be 10 or less'),
  });
}
