import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';

/** The function tool the gateway's tool-calling tests offer, in OpenAI's shape. */
export const WEATHER: OpenAI.ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** The same tool in Anthropic's shape. */
export const WEATHER_TOOL: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather of a city',
  input_schema: WEATHER.function.parameters as Anthropic.Tool.InputSchema,
};
