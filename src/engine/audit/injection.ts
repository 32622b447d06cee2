/**
 * Prompt-injection signals. Each pattern yields a signal with a base score; boosts come from
 * model-directed cues, a follow-on imperative, and other signals nearby; context that *talks about*
 * injection (quotes, code, "for example", "attackers", a question) dampens the score, so a security
 * article quoting "ignore previous instructions" stays low while the bare instruction scores high.
 */
import type { RawMatch } from './raw-match.js';
import { matchAll } from './raw-match.js';

const VERBS =
  'escalate|issue|approve|reject|reply|respond|answer|say|tell|recommend|rate|rank|score|send|include|ignore|disregard|forget|reveal|print|output|list|call|delete|grant|transfer|refund|translate|summari[sz]e|mention|link|praise|describe|write|add|insert|use|visit|click|download|execute|run|comply|obey|follow|never|always|do\\s+not|don\'t|stop|state|claim|classify|mark|label|forward|post|upload|copy|give|show|display|provide|return|act|pretend';

const MODEL_CUE = /\b(?:AI|A\.I\.|LLMs?|language\s+models?|assistants?|chatbots?|GPT|ChatGPT|Claude|Gemini|Copilot|models?|agents?|system\s+prompt)\b/i;
const FOLLOW_ON = new RegExp(
  `^[\\s,;:—–-]*(?:and\\s+(?:then\\s+)?|then\\s+|instead\\s*,?\\s*|\\.\\s*|!\\s*)(?:only\\s+)?(?:${VERBS})\\b|^\\s*[:.;,—–-][^.\\n]{0,40}\\byou\\s+(?:must|will|shall|should|are\\s+to)\\b`,
  'i',
);
const DIRECTIVE = new RegExp(
  `\\b(?:you|the\\s+assistant|the\\s+model|the\\s+AI|assistant)\\b[^.\\n]{0,40}\\b(?:must|should|will|shall|always|never|are\\s+(?:an?|now|to))\\b|^\\s*(?:please\\s+)?(?:${VERBS})\\b`,
  'i',
);
const AUTHORITY = /\b(?:authori[sz]ed|admin(?:istrator)?|developer|official|mandatory|required\s+by|from\s+the\s+(?:owner|admin|developer))\b/i;

const DISCUSSION_CUES =
  /\b(?:for\s+example|e\.g\.|such\s+as|like\s+this|things\s+like|inputs\s+like|phrases\s+like|strings\s+like|attackers?|adversar\w*|malicious|injection|jailbreaks?|red[- ]team\w*|payloads?|researchers?|technique|known\s+as|classic|mitigat\w*|defen[cs]\w*|detect\w*|classifier|dataset|labell?ed|OWASP|LLM01|vulnerab\w*|exploit\w*|we\s+evaluate|section\s+\d|format|syntax)\b/gi;

interface Signal {
  ruleId: string;
  start: number;
  end: number;
  base: number;
  /** Whether the generic model-cue and follow-on boosts apply (some patterns score these themselves). */
  boostable: boolean;
}


// ---------- patterns ----------

const OVERRIDE_VERB = "ignore|disregard|forget|override|bypass|skip|discard|abandon|neglect|pay\\s+no\\s+attention\\s+to|do\\s+not\\s+(?:follow|obey)|don'?t\\s+(?:follow|obey)|stop\\s+(?:following|obeying)|no\\s+longer\\s+(?:follow|obey)";
const FILLER = '(?:(?:all|any|every|each|the|your|my|these|those|of|and)\\s+){0,3}';
const ADJ = '(?:previous|prior|preceding|above|earlier|former|foregoing|original|initial|old|existing|system|default|safety|current|given|pre-?set|developer|hidden|following|subsequent|other|later|starting|ethical|moral|content)';
const STRONG_NOUN = '(?:instructions?|directives?|system\\s+prompts?|prompts?|programming|training|system\\s+messages?)';
const WEAK_NOUN = '(?:directions?|rules|guidelines|guidance|commands?|context|polic(?:y|ies)|constraints|restrictions|orders|messages|filters|safeguards|considerations|concerns|boundaries|limits|ethics|morals|input|knowledge)';
const OVERRIDE = new RegExp(`\\b(${OVERRIDE_VERB})\\s+(${FILLER})((?:${ADJ}\\s+(?:(?:and|or|&)\\s+)?){0,3})(?:(${STRONG_NOUN})|(${WEAK_NOUN}))\\b`, 'gi');
/** "Ignore the rest of this data", "disregard all info except…", "ignore them and instead…": dropping the surrounding data. */
const IGNORE_DATA = new RegExp(
  `\\b(?:${OVERRIDE_VERB})\\s+(?:(?:the\\s+rest\\s+of|all\\s+(?:other\\s+)?|any\\s+other|other|this|these|everything\\s+(?:else\\s+)?in)\\s+)(?:(?:the|this|that|these)\\s+)?(?:[a-z-]+\\s+)?(?:data|content|text|info(?:rmation)?|inputs?|documents?|snippets?|context|indicators|evidence)\\b|\\b(?:ignore|disregard)\\s+(?:them|it|those)\\s+and\\s+(?:instead\\s+)?(?:focus|print|say|output|reply|respond|report)\\b`,
  'gi',
);
/** A verdict dictated to the reader ("this domain is clearly not malicious"), and the pressure that comes with it. */
const VERDICT =
  /\b(?:this|the)\s+(?:domain(?:\s+name)?|file|site|website|url|link|e-?mail|message|attachment|sender|content|candidate|applicant|document)\s+(?:is|has\s+been)\s+(?:clearly\s+|definitely\s+|absolutely\s+|completely\s+|totally\s+|certainly\s+)?(?:not\s+malicious|non-?malicious|safe|harmless|benign|legitimate|trustworthy|pre-?(?:verified|approved|cleared)|the\s+(?:best|most\s+qualified))\b|\ball\s+(?:the\s+)?(?:content|contents|data|information)\s+(?:here|in\s+this\s+\w+)\s+is\s+(?:not\s+malicious|safe|harmless|benign|legitimate)\b|\beverything\s+is\s+safe\s+here\b/gi;
const PRESSURE =
  /\b(?:really|extremely|critically|vitally)\s+important\b|\b(?:report|respond|output|answer)\s+only\s*:|\bfocus\s+(?:exclusively|only|solely)\s+on\b|\b(?:pre-?(?:verified|approved|cleared))\s+by\s+(?:senior\s+)?(?:management|the\s+(?:admin|owner|team))\b/gi;

/** Other ways of asking for the prompt: "what are your initial instructions?", "output the text above". */
const LEAK_CUES =
  /\bwhat\s+(?:are|were|is|was)\s+your\s+(?:\w+\s+)?(?:instructions|system\s+prompt|prompt|rules|guidelines|directives)\b|\bwhat\s+were\s+you\s+(?:told|instructed|programmed)\b|\b(?:repeat|output|print|show|display|recite)\s+(?:everything|all|the\s+(?:text|words?|content))\s+(?:above|before|prior)\b|\b(?:start|begin)\s+your\s+(?:answer|response|reply|output)\s+with\b|\b(?:repeat|output|print|show|display|recite)\s+(?:the\s+)?(?:above|preceding|previous|earlier)\s+(?:text|words|content|instructions|prompt|conversation)\b|\brepeat\s+(?:this|the|our)\s+(?:entire\s+|whole\s+)?conversation\b|\bthe\s+(?:text|instructions|prompt|rules)\s+you\s+were\s+given\b|:\s*(?:your|the)\s+(?:initial|original|system|hidden|secret|full|starting)\s+(?:prompt|instructions)\b|\bmy\s+(?:instructions|system\s+prompt|rules)\s+(?:are|is|were)\b|\bI\s+was\s+(?:instructed|told|programmed)\s+to\b|\b(?:complete|continue)\s+(?:this|the\s+following)\s*(?:sentence|text|phrase)?\s*:\s*["'‘“]/gi;
/** An instruction to answer with fixed text: "just print …", "reply with only the following text". */
const FORCED_OUTPUT_QUOTED = /\b(?:just|only|simply)\s+(?:say|print|output|write|repeat|return|respond\s+with|reply\s+with|answer\s+with)\s*:?\s*["'“‘<]/gi;
const STOP_EVERYTHING = /\b(?:stop|ignore|drop)\s+everything\b/gi;
const FORCED_OUTPUT =
  /\b(?:just|only|simply)\s+(?:say|print|output|write|repeat|return|respond\s+with|reply\s+with|answer\s+with)\b|\b(?:reply|respond|answer)\s+only\s+(?:with|in|as)\b|\b(?:reply|respond|answer)\s+with\s+(?:only\s+)?(?:the\s+following|exactly)\b|\b(?:and|absolutely)\s+nothing\s+else\b|\b(?:override|bypass)\s+(?:the\s+)?(?:manual\s+)?(?:scoring|evaluation|review|grading|ranking)\b/gi;
/** A conditional order about what to tell the user: "if asked …, respond …", "if questioned, report that …". */
const CONDITIONAL_ORDER =
  /\bif\s+(?:(?:the\s+)?(?:user|anyone|someone|somebody|they|people|I|we|a\s+(?:user|human|recruiter|reviewer))\s+(?:asks?|asked|questions?|requests?|inquires?|wants?\s+to\s+know)|(?:you\s+are\s+|you're\s+)?(?:asked|questioned|prompted|queried))\b[^.\n]{0,80}?(?:reply|respond|say|answer|report|tell|state|print|output|claim)\b/gi;
const IGNORE_EVERYTHING = /\b(?:ignore|disregard|forget)\s+(?:everything|all|anything)\s+(?:above|before|prior|previously|you\s+(?:were|have\s+been)\s+told|you\s+(?:have\s+)?(?:learned|learnt|know|knew))\b/gi;
const NO_LONGER_APPLY = /\b(?:previous|prior|above|earlier|original|old|all)\s+(?:instructions|rules|directions|guidelines|restrictions)\s+(?:no\s+longer\s+apply|(?:are|is)\s+(?:now\s+)?(?:void|cancell?ed|obsolete|revoked|lifted|null))\b/gi;
const MULTILINGUAL = /\b(?:ignor(?:a|iere|ieren|ez|er)|olvida|oublie[zr]?|vergiss|negeer|ignoruj)\s+(?:\S+\s+){0,3}?(?:instrucciones|instructions|anweisungen|instruktionen|consignes|indicaciones|instructies|instrukcje)\b/gi;

const ROLE_PATTERNS: Array<[RegExp, number]> = [
  [/\byou\s+are\s+now\s+(?:(?:a|an|the|in|my|called|named)\s+)?(?:[\w-]+\s+){0,2}?(?:AI|assistant|model|bot|chatbot|DAN|persona|character|jailbroken|unrestricted|unfiltered|uncensored|evil|free|mode|liberated|no\s+longer)\b/gi, 0.7],
  [/\byou\s+are\s+(?:an?\s+)?(?:unfiltered|unrestricted|uncensored|jailbroken|evil|amoral)\b/gi, 0.6],
  [/\byou\s+(?:are|will\s+be)\s+no\s+longer\s+(?:bound|restricted|limited|an?\s+(?:AI|assistant)|required)\b/gi, 0.7],
  [/\b(?:act|behave|respond)\s+as\s+(?:if\s+you\s+(?:are|were)\s+)?(?:an?\s+)?(?:unrestricted|unfiltered|jailbroken|uncensored|different|evil|DAN)\b/gi, 0.65],
  [/\b(?:enter|enable|activate|switch\s+to)\s+(?:developer|god|jailbreak|DAN|debug|admin)\s+mode\b/gi, 0.65],
  [/\bfrom\s+now\s+on\s*,?\s+(?:you|your)\b/gi, 0.45],
  [/(?:^|\n)[ \t]*(?:new|updated|real|actual|revised)\s+(?:instructions|task|directives?|rules)\s*:/gi, 0.45],
  [/\byour\s+(?:new|real|actual|true|updated)\s+(?:task|instructions|job|goal|purpose|role|directive)s?\s+(?:is|are)\b/gi, 0.5],
  // Persona jailbreaks: a new role to play, kept "in character", free of the model's rules.
  [/\b(?:you\s+(?:are\s+going\s+to|will(?:\s+now)?|must|shall|should|are\s+to)|I\s+(?:want|need|would\s+like)\s+you\s+to|from\s+now\s+on,?\s+you(?:'ll|\s+will)?)\s+(?:(?:fully\s+|now\s+|always\s+)?(?:act|pretend|role-?play|play\s+the\s+(?:role|part)|behave|simulate|impersonate|immerse\s+yourself|pose\s+as|take\s+on))\b/gi, 0.5],
  [/(?:^|[.!?]\s+|\n)[ \t]*(?:please\s+)?(?:act|behave|pretend|role-?play)\s+(?:as|like|to\s+be)\b|\bpretend\s+(?:to\s+be|you\s+are|that\s+you)\b|\b(?:take\s+on|adopt|embody|assume|maintain|create\s+and\s+maintain)\s+(?:the\s+|a\s+|two\s+|this\s+)?(?:[\w-]+\s+){0,2}?personas?\b/gi, 0.45],
  [/(?:^|[.!?]\s+|\n)[ \t]*[Yy]ou\s+are\s+now\s+(?:["“][\w -]+["”]|[A-Z][\w-]*)|\byour\s+name\s+is\s+now\b/g, 0.5],
  [/\byou\s+are\s+(?:now\s+)?(?:fully\s+|completely\s+)?(?:unlocked|jailbroken|freed|liberated|unchained|unshackled)\b/gi, 0.6],
  [/\byou\s+(?:can\s*not|cannot|can't|must\s+not|will\s+not|won't|may\s+not|are\s+not\s+allowed\s+to)\s+(?:reject|refuse|decline)\b|\b(?:respond|reply|answer)\s+to\s+(?:all|every|each)\s+(?:of\s+)?my\s+(?:questions|prompts|messages)\b/gi, 0.45],
  [/\b(?:doesn't|does\s+not|don't|do\s+not|never)\s+(?:have|has|follow|care\s+about)\s+(?:any\s+)?(?:ethical|moral)\s+(?:or\s+(?:ethical|moral|legal)\s+)?(?:guidelines|principles|restrictions|boundaries|limits|rules|considerations)\b/gi, 0.4],
  [/\b(?:unfiltered|amoral|uncensored|unrestricted|unlimited|jailbroken)(?:\s+and\s+[\w-]+)?\s+(?:AI|chatbot|language\s+model|model|assistant|responses?|output|version|persona|mode|entity)\b|\bnever\s+refuse\b|\bbreak\s+(?:the|all|your|any)\s+(?:[\w']+\s+)?rules\b/gi, 0.5],
  [/\b(?:debug(?:ging)?|developer|dev|admin|god|jailbreak|DAN)[\s_\\]*mode\s*(?:[:=]\s*)?(?:enabled|activated|on)\b|\[\W{0,3}JAILBREAK\]|(?:^|\s)\/jailbreak\b/gi, 0.7],
  [/\b(?:every|each|all|any)\s+(?:prompts?|questions?|messages?)\s+(?:that\s+)?(?:I|we)\s+(?:give|send|ask|type|write)\b|\bfrom\s+(?:this\s+(?:moment|point)|now)\s+(?:on(?:wards?)?|forward)\b[^.\n]{0,40}\b(?:you|your|embody|act|respond|reply)\b/gi, 0.45],
  [/\b(?:stay|remain|keep)\s+in\s+character\b|\bbreak(?:ing)?\s+character\b/gi, 0.5],
  [/\b(?:do|can\s+do)\s+anything\s+now\b|\bDAN\s+mode\b|\b(?:developer|jailbreak|god|unrestricted)\s+mode\s+(?:enabled|activated|on)\b/gi, 0.7],
  [/\b(?:without|free\s+(?:of|from)|not\s+bound\s+by|(?:doesn't|does\s+not|don't|do\s+not|never|won't|will\s+not)\s+(?:have\s+to\s+|need\s+to\s+)?(?:follow|abide\s+by|obey|care\s+about|adhere\s+to|have))\s+(?:any\s+)?(?:(?:ethical|moral|content|safety|OpenAI(?:'s)?|usual)\s+(?:or\s+(?:ethical|moral|legal)\s+)?)?(?:restrictions|filters|filtering|censorship|limitations|guidelines|policies|rules|ethics|morals)\b/gi, 0.35],
];
const SYSTEM_LINE = /(?:^|\n|>|:[ \t]|\*\*\*)[ \t]*((?:system|assistant|developer|admin|administrator)(?:\s+(?:override|message|prompt|note|update|chain\s+of\s+thought(?:\s+result)?))?)\s*:[ \t]*([^\n<]*)/gi;
/** A "User:" line asking the model to repeat or reveal something: a turn written into the data. */
const USER_TURN_ORDER = /(?:^|\n)[ \t]*(?:user|human)[ \t]*:[^\n]{0,40}?\b(?:please\s+)?(?:repeat|say|print|output|reveal|ignore|disregard)\b/gi;
/** A scripted exchange inside a document: an "Assistant:" turn next to a "User:" turn. */
const FAKE_TURNS = /(?:^|\n)[ \t]*(?:assistant|AI|model)[ \t]*:[^\n]*\n(?:[^\n]*\n){0,2}?[ \t]*(?:user|human)[ \t]*:|(?:^|\n)[ \t]*(?:user|human)[ \t]*:[^\n]*\n(?:[^\n]*\n){0,2}?[ \t]*(?:assistant|AI)[ \t]*:/gi;

const TEMPLATE_TOKEN = /\[(?:system|assistant|developer)\](?:\(#[\w-]+\))?|<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id)\|>|\[\/?INST\]|<<\/?SYS>>|<\s*end\s+of\s+(?:session|conversation|context|prompt|instructions?)\s*>|<\/?(?:instructions?|system(?:[-_ ]prompt)?|admin)>|(?:^|\n)#{2,3}[ \t]*(?:System|Instruction|Response)[ \t]*:?[ \t]*(?=\n|$)/gi;
const TEMPLATE_MENTION_AFTER = /^\s*(?:and|or|,|\)|tags?|tokens?|blocks?|markers?|delimiters?|\/)/i;
const TEMPLATE_MENTION_BEFORE = /\b(?:use|uses|using|the|with|an?|like)\s*$/i;

const PROMPT_LEAK = /\b(?:reveal|print|output|show|repeat|display|disclose|leak|dump|recite|write\s+out|give\s+me|tell\s+me|send\s+me|share|translate|encode|convert|summari[sz]e|spell[- ]check|paraphrase)\s*:?\s+(?:(?:me|us|all|any|back|out|everything\s+in|all\s+of)\s+)?(?:your|the)\s+(?:(?:full|entire|complete|exact|original|initial|hidden|secret|internal|system|starting|first|beginning|opening|underlying)\s+){0,2}(?:system\s+prompt|prompt|instructions|system\s+message|pre-?prompt|rules|configuration|guidelines|directives)\b/gi;

const URL = /https?:\/\/(?:[^\s)"'<>{}[\]]|\{[^}\s]{0,40}\}|\[[^\]\s]{0,40}\]|<[^>\n]{0,60}>)+/gi;
// Verbs must stand as words, not inside package names (node-fetch, @protobufjs/fetch).
const EXFIL_VERB = /(?<![\w/@-])(?:send|post|forward|upload|transmit|submit|exfiltrate|append|include|attach|visit|open|navigate\s+to|go\s+to|fetch|load|request|call|copy|leak|e-?mail)\b/i;
// What would be stolen: conversation, credentials, personal data — not generic words like "contents".
const EXFIL_DATA = /\b(?:conversation|chat\s+(?:history|log)|(?:user|previous|prior|all|earlier)\s+messages|(?:chat|conversation|browsing)\s+history|user\s+data|personal\s+data|user's\s+\w+|credentials?|passwords?|api\s+keys?|access\s+keys?|tokens?|session|cookies?|secrets?|system\s+prompt|the\s+above|e-?mail\s+address(?:es)?|clipboard)\b/i;
const BLOCK_BREAK = /\n\s*\n|\n\s*(?:[-*+]|\d+\.|#{1,6})\s/;
const URL_PLACEHOLDER = /\{[^}]*\}|\[[A-Z_]{2,}\]|\$[A-Z_]{2,}|<[^>]+>|%s|\{\{/;

const MD_IMAGE = /!\[[^\]\n]{0,200}\]\(\s*<?(https?:\/\/[^\s)]+)/gi;
const EXFIL_PARAM = /(?:^|[?&])(?:q|d|data|secret|token|key|k|conv|conversation|history|prompt|exfil|leak|chat|msg|message|content|info|payload)=[^&]*[A-Za-z]/i;

const VOCATIVES: RegExp[] = [
  /\b(?:dear|hey|hi|hello|attention|note\s+(?:to|for)|message\s+(?:to|for)|instructions?\s+for|reminder\s+(?:to|for)|(?:profile|metadata|notes?)\s+for)\s+(?:the\s+|all\s+|any\s+)?(?:AI(?:\s+(?:assistant|agent|model|system|bot)s?)?|A\.I\.|LLMs?|language\s+models?|chatbots?|GPT|ChatGPT|Claude|Gemini|Copilot|assistants?|automated\s+(?:\w+\s+)?(?:software|systems?|tools?|screeners?|scanners?|reviewers?))\b/gi,
  /\b(?:invisible|hidden)\s+to\s+humans\b|\bvisible\s+(?:only\s+)?to\s+(?:the\s+)?(?:LLMs?|AI|models?|machines?|bots?)(?:\s+scans?)?\b/gi,
  /(?:^|\n|>)[ \t]*(?:(?:the\s+)?AI(?:\s+(?:assistant|agent|model)s?)?|LLMs?|language\s+models?|assistants?|chatbots?|Claude|ChatGPT|Gemini|Copilot)(?:\s+(?:instructions|note|notice))?\s*[,:]/gi,
  /\bif\s+you(?:'re|\s+are)\s+(?:an?\s+)?(?:AI|LLM|language\s+model|AI\s+(?:model|assistant|agent)|chatbot|bot|assistant|GPT)\b/gi,
  /\b(?:AI|LLMs?|language\s+models?|AI\s+(?:assistant|agent|model)s?|assistants?|agents?|chatbots?|bots?)\s+(?:reading|processing|summari[sz]ing|parsing|seeing|analy[sz]ing|reviewing|indexing)\s+this\b/gi,
];
const VOCATIVE_DIRECTIVE = new RegExp(
  `(?:^|[,:;.!]\\s*|\\band\\s+|\\bplease\\s+|\\bthen\\s+)(?:${VERBS})\\b|\\byou\\s+(?:must|should|will|need\\s+to|have\\s+to|are\\s+(?:required|instructed))\\b`,
  'i',
);

/** "Replace [INFO] with …" / "whereas [DATA] is …": a URL template whose blank is the conversation. */
const PLACEHOLDER_DEF =
  /\b(?:replac(?:e|ing)|substitut(?:e|ing)|fill(?:ing)?\s+in)\s+(?:\[[A-Za-z_ ]{2,20}\]|\{[^}\s]{1,30}\}|<[A-Z_]{2,20}>|\$[A-Z_]{2,})\s+with\b[^\n]{0,160}|\bwhere(?:as|by)?\s+(?:\[[A-Za-z_ ]{2,20}\]|\{[^}\s]{1,30}\})\s+(?:is|are|contains?|should\s+be)\b[^\n]{0,160}/gi;
const PLACEHOLDER_DATA =
  /\b(?:conversation|chat|(?:previous|prior|last|user's)\s+messages?|summary|history|e-?mail|password|credentials?|secrets?|api\s+keys?|tokens?|personal|user\s+data|url[- ]?encoded)\b/i;

// ---------- signal collection ----------

function collectSignals(text: string): Signal[] {
  const out: Signal[] = [];
  const add = (ruleId: string, start: number, end: number, base: number, boostable = true) =>
    out.push({ ruleId, start, end, base, boostable });

  for (const m of matchAll(OVERRIDE, text)) {
    const strong = m[4] !== undefined;
    const hasAdj = m[3].trim().length > 0;
    let base = strong ? (hasAdj ? 0.8 : 0.5) : hasAdj ? 0.45 : 0.3;
    if (/\byour\b/i.test(m[2])) base += 0.1;
    add('ignore-instructions', m.index, m.index + m[0].length, base);
  }
  for (const m of matchAll(IGNORE_EVERYTHING, text)) add('ignore-instructions', m.index, m.index + m[0].length, 0.7);
  for (const m of matchAll(NO_LONGER_APPLY, text)) add('ignore-instructions', m.index, m.index + m[0].length, 0.7);
  for (const m of matchAll(MULTILINGUAL, text)) add('ignore-instructions', m.index, m.index + m[0].length, 0.8);
  for (const m of matchAll(IGNORE_DATA, text)) add('ignore-instructions', m.index, m.index + m[0].length, 0.55);
  for (const m of matchAll(FORCED_OUTPUT, text)) add('forced-output', m.index, m.index + m[0].length, 0.35, false);
  for (const m of matchAll(STOP_EVERYTHING, text)) add('forced-output', m.index, m.index + m[0].length, 0.45, false);
  for (const m of matchAll(VERDICT, text)) add('forced-output', m.index, m.index + m[0].length, 0.4, false);
  for (const m of matchAll(PRESSURE, text)) add('forced-output', m.index, m.index + m[0].length, 0.4, false);
  for (const m of matchAll(LEAK_CUES, text)) add('prompt-leak', m.index, m.index + m[0].length, /^(?:start|begin|complete|continue|my|I\s)/i.test(m[0]) ? 0.4 : 0.5);
  for (const m of matchAll(FORCED_OUTPUT_QUOTED, text)) add('forced-output', m.index, m.index + m[0].length, 0.45);
  for (const m of matchAll(CONDITIONAL_ORDER, text)) add('forced-output', m.index, m.index + m[0].length, 0.55);
  for (const m of matchAll(USER_TURN_ORDER, text)) {
    const lead = m[0].length - m[0].trimStart().length;
    add('role-override', m.index + lead, m.index + m[0].length, 0.5, false);
  }
  for (const m of matchAll(FAKE_TURNS, text)) {
    const lead = m[0].length - m[0].trimStart().length;
    add('role-override', m.index + lead, m.index + m[0].length, 0.55, false);
  }
  for (const m of matchAll(PLACEHOLDER_DEF, text)) {
    // The blank is filled with the user's data, or it sits in a link or image being assembled.
    const link = /https?|:\/\/|\/\/|\]\(|!\[|\]\s*:|\?[\w"]*=|\burl\b|\blink\b|concatenat/i.test(text.slice(Math.max(0, m.index - 400), m.index));
    if (PLACEHOLDER_DATA.test(m[0]) || link) add('exfiltration', m.index, m.index + m[0].length, PLACEHOLDER_DATA.test(m[0]) && link ? 0.75 : 0.6);
  }

  for (const [re, base] of ROLE_PATTERNS) {
    for (const m of matchAll(re, text)) {
      const lead = m[0].length - m[0].trimStart().length;
      add('role-override', m.index + lead, m.index + m[0].length, base);
    }
  }
  for (const m of matchAll(SYSTEM_LINE, text)) {
    const rest = m[2];
    const start = m.index + m[0].indexOf(m[1]);
    const directive = DIRECTIVE.test(rest) || new RegExp(OVERRIDE.source, 'i').test(rest);
    add('role-override', start, m.index + m[0].length, directive ? 0.65 : 0.25, false);
  }

  for (const m of matchAll(TEMPLATE_TOKEN, text)) {
    const lead = m[0].length - m[0].trimStart().length;
    const start = m.index + lead;
    const end = m.index + m[0].length;
    let following = text.slice(end, end + 200);
    const nextToken = following.search(/<\||\[\/?INST\]|<<\/?SYS>>/);
    if (nextToken >= 0) following = following.slice(0, nextToken);
    const body = following.replace(/^\s*(?:system|user|assistant)?\s*\n?/i, '');
    let base = 0.45;
    if (DIRECTIVE.test(body) || new RegExp(OVERRIDE.source, 'i').test(body)) base += 0.25;
    if (TEMPLATE_MENTION_AFTER.test(text.slice(end, end + 12)) || TEMPLATE_MENTION_BEFORE.test(text.slice(Math.max(0, start - 12), start))) {
      base *= 0.5;
    }
    add('chat-template', start, end, base, false);
  }

  for (const m of matchAll(PROMPT_LEAK, text)) {
    const after = text.slice(m.index + m[0].length, m.index + m[0].length + 20);
    add('prompt-leak', m.index, m.index + m[0].length, /^\s*verbatim/i.test(after) ? 0.6 : 0.5);
  }

  for (const m of matchAll(URL, text)) {
    const url = m[0];
    // The instruction and its URL share a paragraph and a list item (changelog bullets are separate).
    const before = text.slice(Math.max(0, m.index - 150), m.index).split(BLOCK_BREAK).pop()!;
    const beforeStart = m.index - before.length;
    const after = text.slice(m.index + url.length, m.index + url.length + 80).split(BLOCK_BREAK)[0];
    // Inline code holds names (`request`, `tough-cookie`), not words of an instruction.
    const blank = (s: string) => s.replace(/`[^`\n]*`/g, (c) => ' '.repeat(c.length));
    const verb = EXFIL_VERB.exec(blank(before)) ?? (/[?&][\w-]+=$/.test(url) && EXFIL_VERB.test(blank(after)) ? { index: before.length } : null);
    if (!verb) continue;
    const data = EXFIL_DATA.test(blank(before).slice(verb.index)) || EXFIL_DATA.test(blank(after)) || EXFIL_DATA.test(decodeURIComponentSafe(url));
    const placeholder = URL_PLACEHOLDER.test(url);
    if (!data && !placeholder) continue;
    let base = data ? 0.55 : 0.5;
    if (data && placeholder) base += 0.25;
    add('exfiltration', beforeStart + verb.index, m.index + url.length, base);
  }

  for (const m of matchAll(MD_IMAGE, text)) {
    const url = m[1];
    const q = url.indexOf('?');
    if (q < 0) continue;
    const query = url.slice(q);
    if (URL_PLACEHOLDER.test(query)) add('markdown-image-exfil', m.index, m.index + m[0].length + 1, 0.8, false);
    else if (EXFIL_PARAM.test(query)) add('markdown-image-exfil', m.index, m.index + m[0].length + 1, 0.35, false);
  }

  for (const re of VOCATIVES) {
    for (const m of matchAll(re, text)) {
      const lead = m[0].length - m[0].replace(/^[\n>]/, '').trimStart().length;
      const start = m.index + lead;
      const vocEnd = m.index + m[0].length;
      const paraEnd = text.indexOf('\n\n', vocEnd);
      const following = text.slice(vocEnd, Math.min(paraEnd < 0 ? text.length : paraEnd, vocEnd + 200));
      const d = VOCATIVE_DIRECTIVE.exec(following);
      let base = /^\s*:/.test(text.slice(vocEnd, vocEnd + 3)) ? 0.5 : 0.3;
      let end = vocEnd;
      if (d) {
        base = 0.65;
        const sentenceEnd = following.slice(d.index + d[0].length).search(/[.!?](?=\s|$)|\n/);
        end = vocEnd + d.index + d[0].length + (sentenceEnd < 0 ? following.length - d.index - d[0].length : sentenceEnd);
        if (AUTHORITY.test(text.slice(vocEnd, vocEnd + 300))) base += 0.1;
      }
      add('agent-directive', start, end, base, false);
    }
  }
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// ---------- context ----------

/** Inside a fenced code block, inline code, or a quotation on the same line. */
export function inQuoteOrCode(text: string, start: number, end: number, fenceOffsets = codeFenceOffsets(text)): boolean {
  let fences = 0;
  while (fences < fenceOffsets.length && fenceOffsets[fences] < start) fences++;
  if (fences % 2 === 1) return true;
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const lineEndIdx = text.indexOf('\n', end);
  const before = text.slice(lineStart, start);
  const after = text.slice(end, lineEndIdx < 0 ? text.length : lineEndIdx);
  if ((before.match(/`/g)?.length ?? 0) % 2 === 1 && after.includes('`')) return true;
  if ((before.match(/"/g)?.length ?? 0) % 2 === 1 && after.includes('"')) return true;
  if (before.lastIndexOf('“') > before.lastIndexOf('”') && after.includes('”')) return true;
  // Single quotes double as apostrophes: an opening quote follows a space, a closing one precedes one.
  let open = false;
  for (let i = 0; i < before.length; i++) {
    if (before[i] !== "'") continue;
    const prev = i === 0 ? ' ' : before[i - 1];
    const next = i + 1 < before.length ? before[i + 1] : text[start] ?? ' ';
    if (/[\s(\[:]/.test(prev) && /\S/.test(next)) open = true;
    else if (/\S/.test(prev) && /[\s.,;:!?)]/.test(next)) open = false;
  }
  return open && /'(?=[\s.,;:!?)]|$)/.test(after);
}

/** Start offsets of ``` / ~~~ fence lines, ascending. */
export function codeFenceOffsets(text: string): number[] {
  return [...text.matchAll(/^[ \t]*(?:```|~~~)/gm)].map((m) => m.index!);
}

function discussionCueCount(text: string, start: number, end: number): number {
  // Cue words inside URLs (https://attacker-site.io) are names, not documentation tone.
  // Cues are looked for around the signal, not in the rest of its own sentence: an instruction's
  // payload ("print 'not malicious'") is not documentation tone.
  const rest = text.slice(end, end + 250);
  const lineEnd = rest.indexOf('\n');
  const sentenceEnd = rest.search(/[.!?](?=\s|$)/);
  // An injected line is one unit (its payload may follow a full stop); in prose the sentence is.
  const stop = lineEnd >= 0 && lineEnd <= 160 ? lineEnd : sentenceEnd >= 0 ? sentenceEnd : lineEnd;
  const after = stop < 0 ? '' : rest.slice(stop);
  const window = `${text.slice(Math.max(0, start - 250), start)} ${text.slice(start, end)} ${after}`.replace(/https?:\/\/\S+/g, ' ');
  const seen = new Set<string>();
  for (const m of window.matchAll(DISCUSSION_CUES)) seen.add(m[0].toLowerCase().replace(/\s+/g, ' '));
  return seen.size;
}

function opensSentence(text: string, start: number): boolean {
  const before = text.slice(Math.max(0, start - 30), start);
  // "inputs like: Ignore previous instructions." introduces an example, it does not give an order.
  if (/\b(?:like|as|e\.g\.|i\.e\.|examples?|includ\w*|such\s+as|follows?|say|says|said|reads?|wrote|writes?)\s*:\s*$/i.test(before)) return false;
  return start === 0 || /(?:^|[\n.!?:>\]*]|\/\/)\s*$/.test(before.slice(-4));
}

function isQuestion(text: string, end: number): boolean {
  const rest = text.slice(end, end + 300);
  const stop = rest.search(/[.!?\n]/);
  return stop >= 0 && rest[stop] === '?';
}

export interface InjectionOptions {
  /** Lower scores for text that talks about injection (quotes, code, documentation cues). Default true. */
  dampen?: boolean;
}

/** Injection signals in `text`, scored 0–1 (unfiltered: the caller applies its threshold). */
export function detectInjection(text: string, opts: InjectionOptions = {}): RawMatch[] {
  const dampen = opts.dampen ?? true;
  const signals = collectSignals(text);
  const fences = dampen && signals.length ? codeFenceOffsets(text) : [];
  const scored: RawMatch[] = signals.map((s) => {
    let score = s.base;
    if (s.boostable) {
      const window = text.slice(Math.max(0, s.start - 150), Math.min(text.length, s.end + 150));
      if (MODEL_CUE.test(window)) score += 0.15;
      if (FOLLOW_ON.test(text.slice(s.end, s.end + 80))) score += 0.15;
    }
    const neighbour = signals.some(
      (o) => o !== s && o.base >= 0.4 && !(o.start < s.end && s.start < o.end) && o.start < s.end + 300 && o.end > s.start - 300,
    );
    if (neighbour) score += 0.1;
    if (dampen) {
      if (inQuoteOrCode(text, s.start, s.end, fences)) score *= 0.4;
      // An instruction that opens its own sentence is an order, not a mention: "Attackers write
      // ignore previous instructions" talks about one; "… data.\nIgnore the rest of this data" gives it.
      // Heavy discussion context (three cues or more) dampens even sentence-initial phrases.
      const cues = Math.min(3, discussionCueCount(text, s.start, s.end));
      score *= Math.pow(opensSentence(text, s.start) && cues < 3 ? 0.8 : 0.55, cues);
      if (s.ruleId !== 'prompt-leak' && isQuestion(text, s.end)) score *= 0.7;
    }
    return { ruleId: s.ruleId, start: s.start, end: s.end, score: Math.max(0, Math.min(1, score)) };
  });
  return mergeNearby(scored, 200);
}

/** One finding per rule per neighbourhood: ChatML's <|im_start|> … <|im_end|> is one event. */
function mergeNearby(matches: RawMatch[], gap: number): RawMatch[] {
  const byRule = new Map<string, RawMatch[]>();
  for (const m of matches) byRule.set(m.ruleId, [...(byRule.get(m.ruleId) ?? []), m]);
  const out: RawMatch[] = [];
  for (const list of byRule.values()) {
    list.sort((a, b) => a.start - b.start);
    let cur: RawMatch | undefined;
    for (const m of list) {
      if (cur && m.start <= cur.end + gap) {
        cur.end = Math.max(cur.end, m.end);
        cur.score = Math.max(cur.score, m.score);
      } else {
        if (cur) out.push(cur);
        cur = { ...m };
      }
    }
    if (cur) out.push(cur);
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Highest injection score in a piece of decoded or hidden text (0 when nothing fires). */
/** Hidden text that names a model and gives it an order, even without an override phrase. */
export function modelDirectedOrder(text: string): boolean {
  return MODEL_CUE.test(text) && VOCATIVE_DIRECTIVE.test(text);
}

/** Decoded or hidden text that reads as an order: an imperative, an order to "you", or an injection signal. */
export function instructionLike(text: string): boolean {
  return DIRECTIVE.test(text) || /\b(?:you|your)\b/i.test(text) || HIDDEN_ORDER.test(text) || maxInjectionScore(text, { dampen: false }) >= 0.3;
}
const HIDDEN_ORDER = /^\s*(?:please\s+)?(?:continue|complete|finish|repeat|decode|begin|start|display|administrator|admin|system)\b|\bsystem\s*prompt|\binstructions\b|\binitial\s+prompt\b/i;

export function maxInjectionScore(text: string, opts: InjectionOptions = {}): number {
  return detectInjection(text, opts).reduce((max, m) => Math.max(max, m.score), 0);
}
