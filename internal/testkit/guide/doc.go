// Package guide extracts the conversations of the language guide
// (docs/language.md) for the tests that run them: dsl's TestDocsExamples
// against the interpreter alone, platformtest's TestDocsConversations
// through the runtime. A conversation is a fenced transcript with the bot
// files shown before it. Only tests import it; it imports nothing of the
// module, so that dsl's own tests can.
//
//	convs, err := guide.Conversations("../docs/language.md")
//	for _, c := range convs {
//		bot, err := dsl.CompileBot(c.Files) // then run c.Lines()
//	}
package guide
