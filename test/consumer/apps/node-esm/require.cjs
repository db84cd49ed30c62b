// A CommonJS app: require('ai-imagegen') (Node's require of an ES module, unflagged since 20.19).
const imagegen = require('ai-imagegen');
const node = require('ai-imagegen/node');

const error = new imagegen.InvalidRequestError({ issues: [] });
console.log(
  JSON.stringify({
    generateImages: typeof imagegen.generateImages,
    imageModel: typeof imagegen.imageModel,
    saveImages: typeof node.saveImages,
    guard: imagegen.ImagegenError.isInstance(error),
    version: require('ai-imagegen/package.json').version,
  }),
);
