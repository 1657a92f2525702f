import { parseArgs } from 'node:util';
import { GetSubscriptionAttributesCommand, SNSClient, SubscribeCommand, type SNSClientConfig } from '@aws-sdk/client-sns';
import { UsageError, type CliIo, type Command } from '../command.js';

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_.-]{1,256}$/;

const HELP = [
  'Usage: baton sns subscribe --topic-arn <arn> --endpoint <url> [options]',
  '',
  "Subscribes Baton's SNS endpoint (POST /api/v3/sns) to an SNS topic. SNS then sends a",
  'SubscriptionConfirmation to the endpoint, which Baton confirms by itself when the topic is',
  'configured under sns.subscriptions (BATON_SOURCES_CONFIG).',
  '',
  'Options:',
  '  --topic-arn <arn>       the topic, e.g. arn:aws:sns:eu-west-1:123456789012:orders',
  '  --endpoint <url>        the public http(s) URL of Baton\'s SNS endpoint, e.g. https://baton.example.com/api/v3/sns',
  '  --region <region>       AWS region (default: AWS_REGION, else the topic ARN\'s region)',
  '  --sns-endpoint <url>    SNS API endpoint other than AWS\'s (an emulator such as moto)',
  '  --raw-message-delivery  deliver the message body without the SNS envelope (not for Baton\'s endpoint: it needs the signed envelope)',
  '  --json                  print the result as one JSON object',
  '',
  'Credentials come from the usual AWS sources (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, roles).',
].join('\n');

interface SubscribeArgs {
  topicArn: string;
  endpoint: string;
  region: string;
  snsEndpoint?: string;
  json: boolean;
}

function parse(args: string[], env: CliIo['env']): SubscribeArgs {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        'topic-arn': { type: 'string' },
        endpoint: { type: 'string' },
        region: { type: 'string' },
        'sns-endpoint': { type: 'string' },
        'raw-message-delivery': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (positionals[0] !== 'subscribe' || positionals.length !== 1) throw new UsageError('expected the subcommand "subscribe"');
  const topicArn = values['topic-arn'];
  if (!topicArn) throw new UsageError('--topic-arn is required');
  const m = TOPIC_ARN.exec(topicArn);
  if (!m) throw new UsageError(`--topic-arn "${topicArn}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`);
  const endpoint = values.endpoint;
  if (!endpoint) throw new UsageError('--endpoint is required');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`--endpoint "${endpoint}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--endpoint must be an http or https URL');
  if (values['raw-message-delivery']) throw new UsageError("--raw-message-delivery strips the signed envelope Baton's endpoint verifies; subscribe without it");
  const snsEndpoint = values['sns-endpoint'];
  if (snsEndpoint !== undefined && !/^https?:\/\/\S+$/.test(snsEndpoint)) throw new UsageError('--sns-endpoint must be an http(s) URL');
  return { topicArn, endpoint, region: values.region ?? env.AWS_REGION ?? m[1]!, ...(snsEndpoint ? { snsEndpoint } : {}), json: values.json };
}

export const snsCommand: Command = {
  name: 'sns',
  summary: "subscribe Baton's SNS endpoint to an SNS topic",
  help: HELP,
  async run(args, io) {
    const a = parse(args, io.env);
    const config: SNSClientConfig = { region: a.region, ...(a.snsEndpoint ? { endpoint: a.snsEndpoint } : {}) };
    if (io.env.AWS_ACCESS_KEY_ID && io.env.AWS_SECRET_ACCESS_KEY) {
      config.credentials = { accessKeyId: io.env.AWS_ACCESS_KEY_ID, secretAccessKey: io.env.AWS_SECRET_ACCESS_KEY, ...(io.env.AWS_SESSION_TOKEN ? { sessionToken: io.env.AWS_SESSION_TOKEN } : {}) };
    }
    const client = new SNSClient(config);
    try {
      const protocol = new URL(a.endpoint).protocol.slice(0, -1);
      const res = await client.send(new SubscribeCommand({ TopicArn: a.topicArn, Protocol: protocol, Endpoint: a.endpoint, ReturnSubscriptionArn: true }));
      const arn = res.SubscriptionArn ?? '';
      // The ARN comes back either way; whether the endpoint confirmed yet is an attribute.
      const attrs = await client.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: arn })).catch(() => undefined);
      const pending = attrs?.Attributes?.PendingConfirmation !== 'false';
      if (a.json) io.stdout.write(`${JSON.stringify({ topicArn: a.topicArn, endpoint: a.endpoint, subscriptionArn: arn, pendingConfirmation: pending })}\n`);
      else io.stdout.write(`subscribed ${a.endpoint} to ${a.topicArn}: ${arn}${pending ? ' (pending confirmation)' : ''}\n`);
      return 0;
    } catch (err) {
      io.stderr.write(`baton sns: subscribing ${a.endpoint} to ${a.topicArn} failed: ${(err as Error).message}\n`);
      return 1;
    } finally {
      client.destroy();
    }
  },
};
