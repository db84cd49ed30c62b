import type { ImageModelV3Middleware } from '@ai-sdk/provider';
import { APICallError } from 'ai';
import { isConnectionRefused } from '../errors/provider-errors.js';

/**
 * A refused connection is not retried: nothing listens at that address (a wrong base URL, a
 * stopped local server), and the AI SDK's backoff would only spend seconds before saying so. A
 * reset or a timeout, which can pass, is retried as before.
 */
export const noRetryWhenRefused: ImageModelV3Middleware = {
  specificationVersion: 'v3',
  async wrapGenerate({ doGenerate }) {
    try {
      return await doGenerate();
    } catch (error) {
      if (!APICallError.isInstance(error) || !error.isRetryable || !isConnectionRefused(error)) throw error;
      throw new APICallError({
        message: error.message,
        url: error.url,
        requestBodyValues: error.requestBodyValues,
        ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
        cause: error.cause,
        isRetryable: false,
      });
    }
  },
};
