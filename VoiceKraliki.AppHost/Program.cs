Console.WriteLine("apphost");
