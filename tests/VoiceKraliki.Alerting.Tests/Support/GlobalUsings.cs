extern alias apphost;

global using Wait = apphost::VoiceKraliki.AppHost.Testing.Wait;
