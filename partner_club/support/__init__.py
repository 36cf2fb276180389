"""The support desk: questions and feedback from any page, answered by staff in a queue."""
