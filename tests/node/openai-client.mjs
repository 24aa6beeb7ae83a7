// The official openai npm client against a server: list the models, then
// stream a chat completion with usage. Prints what it got as JSON; exits 1
// when the client rejects what the server sent.
// usage: node openai-client.mjs BASE_URL MODEL [API_KEY]
import OpenAI from 'openai';

const [base, model, key] = process.argv.slice(2);
const client = new OpenAI({ baseURL: base + '/v1', apiKey: key || 'none', maxRetries: 0, timeout: 20000 });
const models = await client.models.list();
const ids = [];
for await (const m of models) ids.push(m.id);
const stream = await client.chat.completions.create({
  model,
  messages: [{ role: 'user', content: 'Answer with one word: what is the capital of France?' }],
  max_tokens: 16,
  stream: true,
  stream_options: { include_usage: true },
});
let text = '', finish = null, usage = null, chunks = 0;
for await (const chunk of stream) {
  chunks++;
  if (chunk.object !== 'chat.completion.chunk') throw new Error('not a chunk: ' + JSON.stringify(chunk));
  const c = chunk.choices[0];
  if (c?.delta?.content) text += c.delta.content;
  if (c?.finish_reason) finish = c.finish_reason;
  if (chunk.usage) usage = chunk.usage;
}
const done = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
console.log(JSON.stringify({ ids, text, finish, usage, chunks, plain: done.choices[0].message.content }));
