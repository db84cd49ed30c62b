// Deliberately wrong (count is a number): the suite checks that tsc reports it.
import { generateImages } from 'ai-imagegen';

await generateImages({ prompt: 'a fox', count: 'four' });
