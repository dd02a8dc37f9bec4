extern alias apphost;

global using ClosedPort = apphost::VoiceKraliki.AppHost.Testing.Receivers.ClosedPort;
global using HttpReceiver = apphost::VoiceKraliki.AppHost.Testing.Receivers.HttpReceiver;
global using ReceivedRequest = apphost::VoiceKraliki.AppHost.Testing.Receivers.ReceivedRequest;
global using ScriptedAnswer = apphost::VoiceKraliki.AppHost.Testing.Receivers.ScriptedAnswer;
global using SilentServer = apphost::VoiceKraliki.AppHost.Testing.Receivers.SilentServer;
global using SmtpSink = apphost::VoiceKraliki.AppHost.Testing.Receivers.SmtpSink;
global using Wait = apphost::VoiceKraliki.AppHost.Testing.Wait;
